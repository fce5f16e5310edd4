// Policy checks over the rendered overlays, plus a mutation for every check
// proving it reports a broken manifest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OVERLAYS, render, type K8sObject } from "./helpers/render.ts";
import { ALL_CHECKS, find } from "./helpers/policy.ts";

for (const overlay of OVERLAYS) {
  for (const [name, check] of Object.entries(ALL_CHECKS)) {
    test(`${overlay}: ${name}`, () => {
      assert.deepEqual(check(render(overlay)), []);
    });
  }
}

type Mutation = { check: keyof typeof ALL_CHECKS; what: string; expect: RegExp; mutate: (objs: K8sObject[]) => K8sObject[] | void };
const get = (objs: K8sObject[], kind: string, name: string) => {
  const o = find(objs, kind, name);
  if (!o) throw new Error(`fixture lacks ${kind}/${name}`);
  return o;
};
const c0 = (objs: K8sObject[], name: string) => get(objs, "Deployment", name).spec.template.spec.containers[0];

const MUTATIONS: Mutation[] = [
  { check: "selectors", what: "pod labels no longer match the Deployment selector", expect: /Deployment\/detector: selector does not match/,
    mutate: (o) => { get(o, "Deployment", "detector").spec.template.metadata.labels["app.kubernetes.io/name"] = "detektor"; } },
  { check: "selectors", what: "Service selector points nowhere", expect: /Service\/gateway: selector matches no workload/,
    mutate: (o) => { get(o, "Service", "gateway").spec.selector = { "app.kubernetes.io/name": "gw" }; } },
  { check: "selectors", what: "HPA targets a missing Deployment", expect: /scaleTargetRef Deployment\/classifer/,
    mutate: (o) => { get(o, "HorizontalPodAutoscaler", "classifier").spec.scaleTargetRef.name = "classifer"; } },
  { check: "selectors", what: "ServiceMonitor scrapes a port name the Service lacks", expect: /has no port named metric$/,
    mutate: (o) => { get(o, "ServiceMonitor", "detector").spec.endpoints[0].port = "metric"; } },
  { check: "ports", what: "Service targetPort not exposed", expect: /Service\/classifier-headless: targetPort 9999/,
    mutate: (o) => { get(o, "Service", "classifier-headless").spec.ports[0].targetPort = 9999; } },
  { check: "ports", what: "probe on an undeclared port", expect: /detector\/detector: readinessProbe port ops/,
    mutate: (o) => { c0(o, "detector").readinessProbe.httpGet.port = "ops"; } },
  { check: "ports", what: "grpc probe on the wrong port", expect: /classifier\/classifier: startupProbe port 8101/,
    mutate: (o) => { c0(o, "classifier").startupProbe.grpc.port = 8101; } },
  { check: "ports", what: "NetworkPolicy opens a port the pods do not listen on", expect: /classifier-from-detector: ingress port 8103/,
    mutate: (o) => { get(o, "NetworkPolicy", "classifier-from-detector").spec.ingress[0].ports[0].port = 8103; } },
  { check: "ports", what: "Ingress backend port name wrong", expect: /Ingress\/gateway: backend port/,
    mutate: (o) => { get(o, "Ingress", "gateway").spec.rules[0].http.paths[0].backend.service.port = { name: "web" }; } },
  { check: "resources", what: "container without limits", expect: /gateway\/gateway: no cpu limit/,
    mutate: (o) => { delete c0(o, "gateway").resources.limits; } },
  { check: "resources", what: "request above limit", expect: /memory request 4Gi > limit 3Gi/,
    mutate: (o) => { c0(o, "detector").resources.requests.memory = "4Gi"; } },
  { check: "probes", what: "missing startup probe", expect: /gateway\/gateway: no startupProbe/,
    mutate: (o) => { delete c0(o, "gateway").startupProbe; } },
  { check: "probes", what: "model server without a gRPC probe", expect: /classifier\/classifier: exposes gRPC but no probe/,
    mutate: (o) => { const c = c0(o, "classifier"); c.startupProbe = { tcpSocket: { port: 8102 } }; c.readinessProbe = { tcpSocket: { port: 8102 } }; } },
  { check: "probes", what: "liveness on /readyz (Redis outage would restart everything)", expect: /liveness must not depend on Redis/,
    mutate: (o) => { c0(o, "gateway").livenessProbe.httpGet.path = "/readyz"; } },
  { check: "gracePeriods", what: "detector grace shorter than the longest job", expect: /Deployment\/detector: terminationGracePeriodSeconds 20 < 60/,
    mutate: (o) => { get(o, "Deployment", "detector").spec.template.spec.terminationGracePeriodSeconds = 20; } },
  { check: "autoscaling", what: "HPA min > max", expect: /HorizontalPodAutoscaler\/gateway: minReplicas 25 > maxReplicas 20/,
    mutate: (o) => { get(o, "HorizontalPodAutoscaler", "gateway").spec.minReplicas = 25; } },
  { check: "autoscaling", what: "ScaledObject min > max", expect: /ScaledObject\/detector: minReplicaCount 50 > maxReplicaCount 40/,
    mutate: (o) => { get(o, "ScaledObject", "detector").spec.minReplicaCount = 50; } },
  { check: "autoscaling", what: "no scale-down stabilisation", expect: /classifier: scaleDown stabilizationWindowSeconds undefined/,
    mutate: (o) => { delete get(o, "HorizontalPodAutoscaler", "classifier").spec.behavior; } },
  { check: "autoscaling", what: "HPA and ScaledObject fighting over the detector", expect: /Deployment\/detector: scaled by more than one autoscaler/,
    mutate: (o) => { const h = structuredClone(get(o, "HorizontalPodAutoscaler", "gateway")); h.metadata.name = "detector-cpu"; h.spec.scaleTargetRef.name = "detector"; o.push(h); } },
  { check: "pdbs", what: "workload without a PDB", expect: /Deployment\/classifier: no PodDisruptionBudget/,
    mutate: (o) => o.filter((x) => !(x.kind === "PodDisruptionBudget" && x.metadata.name === "classifier")) },
  { check: "pdbs", what: "PDB that blocks drains", expect: /PodDisruptionBudget\/gateway: maxUnavailable 0/,
    mutate: (o) => { get(o, "PodDisruptionBudget", "gateway").spec.maxUnavailable = 0; } },
  { check: "security", what: "root user", expect: /gateway\/gateway: runAsNonRoot is not true/,
    mutate: (o) => { const d = get(o, "Deployment", "gateway"); d.spec.template.spec.securityContext.runAsNonRoot = false; delete d.spec.template.spec.containers[0].securityContext.runAsNonRoot; } },
  { check: "security", what: "writable root filesystem", expect: /detector\/detector: readOnlyRootFilesystem is not true/,
    mutate: (o) => { c0(o, "detector").securityContext.readOnlyRootFilesystem = false; } },
  { check: "security", what: "capabilities not dropped", expect: /classifier\/classifier: capabilities do not drop ALL/,
    mutate: (o) => { c0(o, "classifier").securityContext.capabilities = { drop: ["NET_RAW"] }; } },
  { check: "security", what: "no seccomp profile", expect: /StatefulSet\/redis: pod seccompProfile is not RuntimeDefault/,
    mutate: (o) => { delete get(o, "StatefulSet", "redis").spec.template.spec.securityContext.seccompProfile; } },
  { check: "security", what: "service account token mounted", expect: /Deployment\/gateway: automountServiceAccountToken is not false/,
    mutate: (o) => { delete get(o, "Deployment", "gateway").spec.template.spec.automountServiceAccountToken; } },
  { check: "security", what: "no /tmp emptyDir", expect: /gateway\/gateway: \/tmp is not an emptyDir/,
    mutate: (o) => { c0(o, "gateway").volumeMounts = []; } },
  { check: "security", what: ":latest image", expect: /image .*:latest is untagged or :latest/,
    mutate: (o) => { c0(o, "classifier").image = "ghcr.io/dfd-platform/classifier:latest"; } },
  { check: "networkPolicies", what: "classifier opened to every namespace", expect: /must be denied: other namespace -> classifier:8102/,
    mutate: (o) => { get(o, "NetworkPolicy", "classifier-from-detector").spec.ingress[0].from = [{ namespaceSelector: {} }]; } },
  { check: "networkPolicies", what: "gateway egress opened to all pods (classifier then reachable)", expect: /must be denied: gateway -> classifier:8102/,
    mutate: (o) => { get(o, "NetworkPolicy", "classifier-from-detector").spec.ingress[0].from = [{ podSelector: {} }]; get(o, "NetworkPolicy", "gateway-egress").spec.egress[0] = { to: [{ podSelector: {} }] }; } },
  { check: "networkPolicies", what: "gateway opened to all namespaces", expect: /must be denied: other namespace -> gateway:8080/,
    mutate: (o) => { get(o, "NetworkPolicy", "gateway-from-ingress-controller").spec.ingress[0].from = [{ namespaceSelector: {} }]; } },
  { check: "networkPolicies", what: "default deny removed", expect: /no default-deny NetworkPolicy/,
    mutate: (o) => o.filter((x) => !(x.kind === "NetworkPolicy" && x.metadata.name === "default-deny-all")) },
  { check: "networkPolicies", what: "DNS egress removed", expect: /must be allowed: detector -> kube-dns:53\/UDP/,
    mutate: (o) => o.filter((x) => !(x.kind === "NetworkPolicy" && x.metadata.name === "allow-dns-egress")) },
  { check: "networkPolicies", what: "detector egress to the classifier removed", expect: /must be allowed: detector -> classifier:8102/,
    mutate: (o) => { get(o, "NetworkPolicy", "detector-egress").spec.egress.pop(); } },
  { check: "wiring", what: "CLASSIFIER_TARGET through a ClusterIP Service", expect: /is not headless/,
    mutate: (o) => { delete get(o, "Service", "classifier-headless").spec.clusterIP; } },
  { check: "wiring", what: "ORT threads not from the CPU limit", expect: /detector\/detector: ORT_INTRA_OP_THREADS must come from limits.cpu/,
    mutate: (o) => { const e = c0(o, "detector").env.find((x: any) => x.name === "ORT_INTRA_OP_THREADS"); delete e.valueFrom; e.value = "4"; } },
  { check: "wiring", what: "ingress body limit below MAX_UPLOAD_BYTES", expect: /proxy-body-size 1m does not match MAX_UPLOAD_BYTES 20971520/,
    mutate: (o) => { get(o, "Ingress", "gateway").metadata.annotations!["nginx.ingress.kubernetes.io/proxy-body-size"] = "1m"; } },
  { check: "wiring", what: "envFrom a ConfigMap that does not exist", expect: /envFrom ConfigMap dfd-config does not exist/,
    mutate: (o) => { c0(o, "classifier").envFrom[0].configMapRef.name = "dfd-config"; } },
];

for (const m of MUTATIONS) {
  test(`check ${m.check} fails when: ${m.what}`, () => {
    let objs = render("prod");
    assert.deepEqual(ALL_CHECKS[m.check](objs), [], "fixture must pass before mutation");
    objs = (m.mutate(objs) as K8sObject[] | undefined) ?? objs;
    const v = ALL_CHECKS[m.check](objs);
    assert.ok(v.some((x) => m.expect.test(x)), `expected a violation matching ${m.expect}, got:\n${v.join("\n") || "(none)"}`);
  });
}

test("every check has at least one mutation proving it can fail", () => {
  const covered = new Set(MUTATIONS.map((m) => m.check));
  assert.deepEqual(Object.keys(ALL_CHECKS).filter((k) => !covered.has(k as keyof typeof ALL_CHECKS)), []);
});
