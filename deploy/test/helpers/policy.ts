// Policy checks over rendered manifests. Each check returns a list of
// violations (empty = pass) so the tests can also prove that it fails when a
// manifest is broken.
import type { K8sObject } from "./render.ts";
import { id } from "./render.ts";

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];
/** Longest analysis job (issue #5): ~30 s worst case. */
export const LONGEST_JOB_SECONDS = 30;

type Labels = Record<string, string>;
type Container = Record<string, any>;

export const workloads = (objs: K8sObject[]) => objs.filter((o) => WORKLOAD_KINDS.includes(o.kind));
export const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
export const find = (objs: K8sObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const podLabels = (w: K8sObject): Labels => w.spec?.template?.metadata?.labels ?? {};
const podSpec = (w: K8sObject): Record<string, any> => w.spec?.template?.spec ?? {};
const allContainers = (w: K8sObject): Container[] => [
  ...(podSpec(w).initContainers ?? []),
  ...(podSpec(w).containers ?? []),
];

/** Kubernetes label-selector semantics (matchLabels + matchExpressions). */
export function selectorMatches(sel: any, labels: Labels): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const val = labels[e.key];
    switch (e.operator) {
      case "In": if (!has || !e.values.includes(val)) return false; break;
      case "NotIn": if (has && e.values.includes(val)) return false; break;
      case "Exists": if (!has) return false; break;
      case "DoesNotExist": if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
/** A plain Service selector map. */
const mapMatches = (sel: Labels | undefined, labels: Labels) =>
  !!sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);

/** Container port (number) for a port reference (name or number) in a pod. */
function resolvePort(containers: Container[], ref: string | number): number | undefined {
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (typeof ref === "number" ? p.containerPort === ref : p.name === ref) return p.containerPort;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ selectors
export function checkSelectors(objs: K8sObject[]): string[] {
  const v: string[] = [];
  const ws = workloads(objs);
  for (const w of ws) {
    if (!w.spec?.selector?.matchLabels || Object.keys(w.spec.selector.matchLabels).length === 0) {
      v.push(`${id(w)}: selector.matchLabels is empty`);
    }
    if (!selectorMatches(w.spec?.selector, podLabels(w))) v.push(`${id(w)}: selector does not match its pod template labels`);
  }
  for (const s of byKind(objs, "Service")) {
    if (!ws.some((w) => mapMatches(s.spec?.selector, podLabels(w)))) v.push(`${id(s)}: selector matches no workload's pods`);
  }
  for (const p of byKind(objs, "PodDisruptionBudget")) {
    if (!ws.some((w) => selectorMatches(p.spec?.selector, podLabels(w)))) v.push(`${id(p)}: selector matches no workload's pods`);
  }
  for (const np of byKind(objs, "NetworkPolicy")) {
    const sel = np.spec?.podSelector ?? {};
    const empty = !sel.matchLabels && !sel.matchExpressions;
    if (!empty && !ws.some((w) => selectorMatches(sel, podLabels(w)))) v.push(`${id(np)}: podSelector matches no pods`);
    for (const dir of ["ingress", "egress"] as const) {
      for (const rule of np.spec?.[dir] ?? []) {
        for (const peer of [...(rule.from ?? []), ...(rule.to ?? [])]) {
          if (peer.podSelector && !peer.namespaceSelector && !ws.some((w) => selectorMatches(peer.podSelector, podLabels(w)))) {
            v.push(`${id(np)}: ${dir} peer podSelector ${JSON.stringify(peer.podSelector)} matches no pods in the namespace`);
          }
        }
      }
    }
  }
  const scaleTargets = [
    ...byKind(objs, "HorizontalPodAutoscaler").map((h) => [h, h.spec?.scaleTargetRef] as const),
    ...byKind(objs, "ScaledObject").map((s) => [s, s.spec?.scaleTargetRef] as const),
  ];
  for (const [o, ref] of scaleTargets) {
    const kind = ref?.kind ?? "Deployment";
    if (!find(objs, kind, ref?.name)) v.push(`${id(o)}: scaleTargetRef ${kind}/${ref?.name} does not exist`);
  }
  for (const sm of byKind(objs, "ServiceMonitor")) {
    const svcs = byKind(objs, "Service").filter((s) => selectorMatches(sm.spec?.selector, s.metadata.labels ?? {}));
    if (svcs.length === 0) v.push(`${id(sm)}: selector matches no Service`);
    for (const ep of sm.spec?.endpoints ?? []) {
      for (const s of svcs) {
        if (!(s.spec?.ports ?? []).some((p: any) => p.name === ep.port)) v.push(`${id(sm)}: Service ${s.metadata.name} has no port named ${ep.port}`);
      }
    }
  }
  return v;
}

// ------------------------------------------------------------------ ports
export function checkPorts(objs: K8sObject[]): string[] {
  const v: string[] = [];
  const ws = workloads(objs);
  for (const w of ws) {
    for (const c of allContainers(w)) {
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const pr = c[kind];
        if (!pr) continue;
        const ref = pr.httpGet?.port ?? pr.tcpSocket?.port ?? pr.grpc?.port;
        if (ref === undefined) continue; // exec probe
        if (resolvePort([c], ref) === undefined) v.push(`${id(w)}/${c.name}: ${kind} port ${ref} is not a declared container port`);
      }
    }
  }
  for (const s of byKind(objs, "Service")) {
    const pods = ws.filter((w) => mapMatches(s.spec?.selector, podLabels(w)));
    for (const p of s.spec?.ports ?? []) {
      const target = p.targetPort ?? p.port;
      for (const w of pods) {
        if (resolvePort(allContainers(w), target) === undefined) v.push(`${id(s)}: targetPort ${target} not exposed by ${id(w)}`);
      }
    }
  }
  for (const np of byKind(objs, "NetworkPolicy")) {
    const sel = np.spec?.podSelector ?? {};
    const selected = ws.filter((w) => selectorMatches(sel, podLabels(w)));
    for (const rule of np.spec?.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        // A port must be exposed by at least one selected pod.
        if (selected.length && !selected.some((w) => resolvePort(allContainers(w), p.port) !== undefined)) {
          v.push(`${id(np)}: ingress port ${p.port} is exposed by none of the selected pods`);
        }
      }
    }
    for (const rule of np.spec?.egress ?? []) {
      const peers = (rule.to ?? []).filter((t: any) => t.podSelector && !t.namespaceSelector);
      for (const peer of peers) {
        const targets = ws.filter((w) => selectorMatches(peer.podSelector, podLabels(w)));
        for (const p of rule.ports ?? []) {
          if (targets.length && !targets.some((w) => resolvePort(allContainers(w), p.port) !== undefined)) {
            v.push(`${id(np)}: egress port ${p.port} is exposed by no pod matching ${JSON.stringify(peer.podSelector)}`);
          }
        }
      }
    }
  }
  for (const ing of byKind(objs, "Ingress")) {
    for (const rule of ing.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const b = path.backend?.service;
        const svc = b && find(objs, "Service", b.name);
        if (!svc) { v.push(`${id(ing)}: backend Service ${b?.name} does not exist`); continue; }
        const ok = (svc.spec?.ports ?? []).some((p: any) => (b.port?.name ? p.name === b.port.name : p.port === b.port?.number));
        if (!ok) v.push(`${id(ing)}: backend port ${JSON.stringify(b.port)} not on Service ${b.name}`);
      }
    }
  }
  for (const sts of byKind(objs, "StatefulSet")) {
    const gov = find(objs, "Service", sts.spec?.serviceName);
    if (!gov) v.push(`${id(sts)}: serviceName ${sts.spec?.serviceName} does not exist`);
    else if (gov.spec?.clusterIP !== "None") v.push(`${id(sts)}: governing Service ${gov.metadata.name} is not headless`);
  }
  return v;
}

// ------------------------------------------------------------------ resources + probes
const RESOURCE_UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };
export function quantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([0-9.]+)([A-Za-z]*)$/.exec(String(q));
  if (!m) return NaN;
  const unit = m[2] ?? "";
  if (unit && !(unit in RESOURCE_UNITS)) return NaN;
  return Number(m[1]) * (unit ? RESOURCE_UNITS[unit]! : 1);
}

export function checkResources(objs: K8sObject[]): string[] {
  const v: string[] = [];
  for (const w of workloads(objs)) {
    for (const c of allContainers(w)) {
      for (const r of ["cpu", "memory"]) {
        const req = c.resources?.requests?.[r];
        const lim = c.resources?.limits?.[r];
        if (req === undefined) v.push(`${id(w)}/${c.name}: no ${r} request`);
        if (lim === undefined) v.push(`${id(w)}/${c.name}: no ${r} limit`);
        if (req !== undefined && lim !== undefined && quantity(req) > quantity(lim)) v.push(`${id(w)}/${c.name}: ${r} request ${req} > limit ${lim}`);
      }
    }
  }
  return v;
}

export function checkProbes(objs: K8sObject[]): string[] {
  const v: string[] = [];
  for (const w of workloads(objs)) {
    for (const c of podSpec(w).containers ?? []) {
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        if (!c[kind]) v.push(`${id(w)}/${c.name}: no ${kind}`);
      }
      // Model servers (expose a gRPC port) must use native gRPC health probes.
      const hasGrpc = (c.ports ?? []).some((p: any) => p.name === "grpc");
      if (hasGrpc && ![c.startupProbe, c.readinessProbe, c.livenessProbe].some((p) => p?.grpc)) {
        v.push(`${id(w)}/${c.name}: exposes gRPC but no probe uses grpc.health.v1`);
      }
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const path = c[kind]?.httpGet?.path;
        if (path && !["/healthz", "/readyz"].includes(path)) v.push(`${id(w)}/${c.name}: ${kind} uses ${path}, not /healthz or /readyz`);
      }
      if (c.livenessProbe?.httpGet?.path === "/readyz") v.push(`${id(w)}/${c.name}: liveness must not depend on Redis (/readyz)`);
    }
  }
  return v;
}

/** Grace period longer than the longest job for everything that runs jobs or requests. */
export function checkGracePeriods(objs: K8sObject[]): string[] {
  const v: string[] = [];
  const min: Record<string, number> = { detector: 2 * LONGEST_JOB_SECONDS, gateway: LONGEST_JOB_SECONDS + 1 };
  for (const w of workloads(objs)) {
    const need = min[w.metadata.name] ?? 30;
    const got = podSpec(w).terminationGracePeriodSeconds ?? 30;
    if (got < need) v.push(`${id(w)}: terminationGracePeriodSeconds ${got} < ${need}`);
  }
  return v;
}

// ------------------------------------------------------------------ autoscaling + PDB
export function checkAutoscaling(objs: K8sObject[]): string[] {
  const v: string[] = [];
  for (const h of byKind(objs, "HorizontalPodAutoscaler")) {
    const min = h.spec?.minReplicas ?? 1;
    const max = h.spec?.maxReplicas;
    if (!(min >= 1)) v.push(`${id(h)}: minReplicas ${min} < 1`);
    if (!(min <= max)) v.push(`${id(h)}: minReplicas ${min} > maxReplicas ${max}`);
    const stab = h.spec?.behavior?.scaleDown?.stabilizationWindowSeconds;
    if (!(stab >= 120)) v.push(`${id(h)}: scaleDown stabilizationWindowSeconds ${stab} < 120 (bursts would flap)`);
  }
  for (const s of byKind(objs, "ScaledObject")) {
    const min = s.spec?.minReplicaCount ?? 0;
    const max = s.spec?.maxReplicaCount ?? 100;
    if (!(min >= 1)) v.push(`${id(s)}: minReplicaCount ${min} < 1 (cold start on every burst)`);
    if (!(min <= max)) v.push(`${id(s)}: minReplicaCount ${min} > maxReplicaCount ${max}`);
    const stab = s.spec?.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.stabilizationWindowSeconds;
    if (!(stab >= 120)) v.push(`${id(s)}: scaleDown stabilizationWindowSeconds ${stab} < 120 (bursts would flap)`);
  }
  // Exactly one autoscaler per target (KEDA creates its own HPA: never also ship one).
  const targets = new Map<string, string[]>();
  for (const o of [...byKind(objs, "HorizontalPodAutoscaler"), ...byKind(objs, "ScaledObject")]) {
    const t = `${o.spec?.scaleTargetRef?.kind ?? "Deployment"}/${o.spec?.scaleTargetRef?.name}`;
    targets.set(t, [...(targets.get(t) ?? []), id(o)]);
  }
  for (const [t, owners] of targets) if (owners.length > 1) v.push(`${t}: scaled by more than one autoscaler (${owners.join(", ")})`);
  return v;
}

export function checkPdbs(objs: K8sObject[]): string[] {
  const v: string[] = [];
  const pdbs = byKind(objs, "PodDisruptionBudget");
  for (const w of workloads(objs)) {
    const mine = pdbs.filter((p) => selectorMatches(p.spec?.selector, podLabels(w)));
    if (mine.length === 0) v.push(`${id(w)}: no PodDisruptionBudget`);
    if (mine.length > 1) v.push(`${id(w)}: more than one PodDisruptionBudget`);
    for (const p of mine) {
      if (p.spec?.maxUnavailable === 0 || p.spec?.maxUnavailable === "0%") v.push(`${id(p)}: maxUnavailable 0 blocks every node drain`);
    }
  }
  return v;
}

// ------------------------------------------------------------------ security
export function checkSecurity(objs: K8sObject[]): string[] {
  const v: string[] = [];
  for (const w of workloads(objs)) {
    const ps = podSpec(w);
    const psc = ps.securityContext ?? {};
    if (ps.automountServiceAccountToken !== false) v.push(`${id(w)}: automountServiceAccountToken is not false`);
    if (ps.hostNetwork || ps.hostPID || ps.hostIPC) v.push(`${id(w)}: uses host namespaces`);
    if (psc.seccompProfile?.type !== "RuntimeDefault") v.push(`${id(w)}: pod seccompProfile is not RuntimeDefault`);
    const sa = ps.serviceAccountName && find(objs, "ServiceAccount", ps.serviceAccountName);
    if (!sa) v.push(`${id(w)}: serviceAccountName ${ps.serviceAccountName} missing`);
    else if (sa.automountServiceAccountToken !== false) v.push(`ServiceAccount/${sa.metadata.name}: automountServiceAccountToken is not false`);
    for (const c of allContainers(w)) {
      const sc = c.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
      const uid = sc.runAsUser ?? psc.runAsUser;
      if (nonRoot !== true) v.push(`${id(w)}/${c.name}: runAsNonRoot is not true`);
      if (uid === 0) v.push(`${id(w)}/${c.name}: runAsUser 0`);
      if (sc.privileged) v.push(`${id(w)}/${c.name}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) v.push(`${id(w)}/${c.name}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) v.push(`${id(w)}/${c.name}: readOnlyRootFilesystem is not true`);
      const drop: string[] = sc.capabilities?.drop ?? [];
      if (!drop.includes("ALL")) v.push(`${id(w)}/${c.name}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length) v.push(`${id(w)}/${c.name}: adds capabilities`);
      if (sc.seccompProfile && sc.seccompProfile.type !== "RuntimeDefault") v.push(`${id(w)}/${c.name}: seccomp overridden`);
      const tmp = (c.volumeMounts ?? []).find((m: any) => m.mountPath === "/tmp");
      const tmpVol = tmp && (ps.volumes ?? []).find((x: any) => x.name === tmp.name);
      if (!tmpVol?.emptyDir) v.push(`${id(w)}/${c.name}: /tmp is not an emptyDir (read-only root needs one)`);
      const image: string = c.image ?? "";
      const tag = image.includes("@") ? "digest" : image.split("/").pop()!.split(":")[1];
      if (!tag || tag === "latest") v.push(`${id(w)}/${c.name}: image ${image} is untagged or :latest`);
    }
  }
  return v;
}

// ------------------------------------------------------------------ NetworkPolicy semantics
export type Endpoint = { namespace: string; nsLabels: Labels; labels: Labels };

function peerMatches(peer: any, src: Endpoint, policyNs: string): boolean {
  if (peer.ipBlock) return false; // pods are addressed by selectors here
  const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, src.nsLabels) || (Object.keys(peer.namespaceSelector).length === 0) : src.namespace === policyNs;
  if (!nsOk) return false;
  return peer.podSelector ? selectorMatches(peer.podSelector, src.labels) || Object.keys(peer.podSelector).length === 0 : true;
}
const portMatches = (rulePorts: any[] | undefined, port: number, proto = "TCP") =>
  !rulePorts || rulePorts.length === 0 || rulePorts.some((p) => (p.protocol ?? "TCP") === proto && (p.port === undefined || p.port === port));
const npSelects = (np: K8sObject, labels: Labels) => {
  const sel = np.spec?.podSelector ?? {};
  return (!sel.matchLabels && !sel.matchExpressions) || selectorMatches(sel, labels);
};

/**
 * Would traffic src -> dst:port be admitted by the NetworkPolicies we ship?
 * Our policies govern only pods in namespaces we ship (Namespace objects):
 * the ingress side when dst is ours, the egress side when src is ours.
 */
export function allowed(objs: K8sObject[], src: Endpoint, dst: Endpoint, port: number, proto = "TCP"): boolean {
  const ours = (e: Endpoint) => objs.some((o) => o.kind === "Namespace" && o.metadata.name === e.namespace);
  const nps = byKind(objs, "NetworkPolicy");
  const types = (np: K8sObject): string[] => np.spec?.policyTypes ?? (np.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"]);
  if (ours(dst)) {
    const ing = nps.filter((np) => (np.metadata.namespace ?? NS) === dst.namespace && types(np).includes("Ingress") && npSelects(np, dst.labels));
    const ok = ing.length === 0 || ing.some((np) => (np.spec?.ingress ?? []).some((r: any) =>
      (r.from === undefined || r.from.some((p: any) => peerMatches(p, src, dst.namespace))) && portMatches(r.ports, port, proto)));
    if (!ok) return false;
  }
  if (ours(src)) {
    const eg = nps.filter((np) => (np.metadata.namespace ?? NS) === src.namespace && types(np).includes("Egress") && npSelects(np, src.labels));
    const ok = eg.length === 0 || eg.some((np) => (np.spec?.egress ?? []).some((r: any) =>
      (r.to === undefined || r.to.some((p: any) => peerMatches(p, dst, src.namespace))) && portMatches(r.ports, port, proto)));
    if (!ok) return false;
  }
  return true;
}

const NS = "dfd";
const nsLabels = (ns: string) => ({ "kubernetes.io/metadata.name": ns });
const pod = (name: string): Endpoint => ({ namespace: NS, nsLabels: nsLabels(NS), labels: { "app.kubernetes.io/name": name } });
const ext = (ns: string, labels: Labels): Endpoint => ({ namespace: ns, nsLabels: nsLabels(ns), labels });
export const ENDPOINTS = {
  gateway: pod("gateway"),
  detector: pod("detector"),
  classifier: pod("classifier"),
  redis: pod("redis"),
  ingressController: ext("ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" }),
  otherNamespacePod: ext("other", { app: "curl" }),
  kubeDns: ext("kube-system", { "k8s-app": "kube-dns" }),
};

/** The required connectivity matrix (issue #5). */
export function checkNetworkPolicies(objs: K8sObject[]): string[] {
  const v: string[] = [];
  const nps = byKind(objs, "NetworkPolicy");
  const defaultDeny = nps.some((np) => npSelects(np, {}) && !(np.spec?.podSelector?.matchLabels) &&
    ["Ingress", "Egress"].every((t) => (np.spec?.policyTypes ?? []).includes(t)) && !np.spec?.ingress && !np.spec?.egress);
  if (!defaultDeny) v.push("no default-deny NetworkPolicy (podSelector {}, Ingress+Egress, no rules)");
  const E = ENDPOINTS;
  const must: [string, Endpoint, Endpoint, number, string?][] = [
    ["ingress controller -> gateway:8080", E.ingressController, E.gateway, 8080],
    ["detector -> classifier:8102", E.detector, E.classifier, 8102],
    ["gateway -> redis:6379", E.gateway, E.redis, 6379],
    ["detector -> redis:6379", E.detector, E.redis, 6379],
  ];
  const mustNot: [string, Endpoint, Endpoint, number][] = [
    ["other namespace -> gateway:8080", E.otherNamespacePod, E.gateway, 8080],
    ["ingress controller -> classifier:8102", E.ingressController, E.classifier, 8102],
    ["ingress controller -> detector:8101", E.ingressController, E.detector, 8101],
    ["gateway -> classifier:8102", E.gateway, E.classifier, 8102],
    ["redis -> classifier:8102", E.redis, E.classifier, 8102],
    ["classifier -> redis:6379", E.classifier, E.redis, 6379],
    ["other namespace -> redis:6379", E.otherNamespacePod, E.redis, 6379],
    ["other namespace -> classifier:8102", E.otherNamespacePod, E.classifier, 8102],
  ];
  for (const [what, s, d, p] of must) if (!allowed(objs, s, d, p)) v.push(`must be allowed: ${what}`);
  for (const [what, s, d, p] of mustNot) if (allowed(objs, s, d, p)) v.push(`must be denied: ${what}`);
  for (const name of ["gateway", "detector", "classifier", "redis"] as const) {
    for (const proto of ["UDP", "TCP"]) {
      if (!allowed(objs, E[name], E.kubeDns, 53, proto)) v.push(`must be allowed: ${name} -> kube-dns:53/${proto}`);
    }
  }
  return v;
}

// ------------------------------------------------------------------ wiring (env, config refs, ingress size)
export function envOf(w: K8sObject | undefined, container: string): Record<string, any> {
  const c = (w ? podSpec(w).containers ?? [] : []).find((x: Container) => x.name === container);
  return Object.fromEntries((c?.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

export function checkWiring(objs: K8sObject[]): string[] {
  const v: string[] = [];
  for (const w of workloads(objs)) {
    const ps = podSpec(w);
    for (const c of allContainers(w)) {
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef && !ef.configMapRef.optional && !find(objs, "ConfigMap", ef.configMapRef.name)) {
          v.push(`${id(w)}/${c.name}: envFrom ConfigMap ${ef.configMapRef.name} does not exist`);
        }
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref && !ref.optional && !find(objs, "ConfigMap", ref.name)?.data?.[ref.key]) v.push(`${id(w)}/${c.name}: env ${e.name} refers to missing ConfigMap key ${ref.name}/${ref.key}`);
        const rf = e.valueFrom?.resourceFieldRef;
        if (rf && rf.containerName && !allContainers(w).some((x) => x.name === rf.containerName)) v.push(`${id(w)}/${c.name}: env ${e.name} resourceFieldRef names unknown container ${rf.containerName}`);
      }
      const ort = (c.env ?? []).find((e: any) => e.name === "ORT_INTRA_OP_THREADS");
      if (["detector", "classifier"].includes(c.name)) {
        const rf = ort?.valueFrom?.resourceFieldRef;
        if (!(rf?.resource === "limits.cpu" && String(rf.divisor) === "1")) v.push(`${id(w)}/${c.name}: ORT_INTRA_OP_THREADS must come from limits.cpu with divisor 1`);
      }
    }
    for (const vol of ps.volumes ?? []) {
      if (vol.configMap && !find(objs, "ConfigMap", vol.configMap.name)) v.push(`${id(w)}: volume ${vol.name} ConfigMap ${vol.configMap.name} does not exist`);
    }
  }
  // CLASSIFIER_TARGET must name a headless Service exposing the port, with round-robin-able DNS.
  const target: string | undefined = envOf(find(objs, "Deployment", "detector"), "detector").CLASSIFIER_TARGET;
  const m = target ? /^dns:\/\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(target) : null;
  if (!m) v.push(`detector CLASSIFIER_TARGET ${target} is not dns:///<svc>.<ns>.svc.cluster.local:<port>`);
  else {
    const svc = find(objs, "Service", m[1]!);
    if (!svc) v.push(`CLASSIFIER_TARGET Service ${m[1]} does not exist`);
    else {
      if (svc.spec?.clusterIP !== "None") v.push(`CLASSIFIER_TARGET Service ${m[1]} is not headless (clusterIP: None)`);
      if (!(svc.spec?.ports ?? []).some((p: any) => p.port === Number(m[3]))) v.push(`CLASSIFIER_TARGET port ${m[3]} not on Service ${m[1]}`);
      if ((svc.metadata.namespace ?? NS) !== m[2]) v.push(`CLASSIFIER_TARGET namespace ${m[2]} != Service namespace`);
    }
  }
  // REDIS_URL host must be a Service we ship (or an external host for managed Redis).
  for (const cm of byKind(objs, "ConfigMap").filter((c) => c.data?.REDIS_URL)) {
    const u = new URL(cm.data.REDIS_URL);
    const sm = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(u.hostname);
    if (sm) {
      const svc = find(objs, "Service", sm[1]!);
      if (!svc || !(svc.spec?.ports ?? []).some((p: any) => p.port === Number(u.port || 6379))) v.push(`${id(cm)}: REDIS_URL ${cm.data.REDIS_URL} points at no shipped Service/port`);
    }
  }
  // nginx body size must let MAX_UPLOAD_BYTES through (plus multipart envelope), but not much more.
  const maxUpload = Number(envOf(find(objs, "Deployment", "gateway"), "gateway").MAX_UPLOAD_BYTES);
  for (const ing of byKind(objs, "Ingress")) {
    const raw = ing.metadata.annotations?.["nginx.ingress.kubernetes.io/proxy-body-size"];
    const bytes = raw ? nginxSize(raw) : NaN;
    if (!(bytes >= maxUpload && bytes <= maxUpload + 2 * 2 ** 20)) {
      v.push(`${id(ing)}: proxy-body-size ${raw} does not match MAX_UPLOAD_BYTES ${maxUpload} (+ <= 2 MiB envelope)`);
    }
  }
  return v;
}

/** nginx size syntax: 20m = 20 MiB, 512k, plain bytes. */
export function nginxSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(s.trim());
  if (!m) return NaN;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}

export const ALL_CHECKS = {
  selectors: checkSelectors,
  ports: checkPorts,
  resources: checkResources,
  probes: checkProbes,
  gracePeriods: checkGracePeriods,
  autoscaling: checkAutoscaling,
  pdbs: checkPdbs,
  security: checkSecurity,
  networkPolicies: checkNetworkPolicies,
  wiring: checkWiring,
} as const;
