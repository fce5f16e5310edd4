// Render kustomize overlays offline and validate every manifest against the
// Kubernetes / CRD JSON schemas shipped in the kubernetes-models packages.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
};

export const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const REPO_ROOT = path.resolve(DEPLOY_DIR, "..");
export const K8S_DIR = path.join(DEPLOY_DIR, "k8s");
export const OVERLAYS = ["dev", "prod", "prod-adapter"] as const;
export type Overlay = (typeof OVERLAYS)[number];

const KUBECTL = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].find((p) => existsSync(p)) ?? "kubectl";

const cache = new Map<string, K8sObject[]>();

/** `kubectl kustomize <dir>` parsed into objects (cached; callers get a deep copy). */
export function render(overlay: Overlay | string): K8sObject[] {
  const dir = overlay.includes("/") ? path.resolve(K8S_DIR, overlay) : path.join(K8S_DIR, "overlays", overlay);
  let objs = cache.get(dir);
  if (!objs) {
    let out: string;
    try {
      out = execFileSync(KUBECTL, ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { code?: string; stderr?: string; message: string };
      if (err.code === "ENOENT") throw new Error("kubectl not found: the deploy tests need `kubectl kustomize` (kubectl >= 1.27 on PATH or /usr/bin/kubectl)");
      throw new Error(`kubectl kustomize ${dir} failed: ${err.stderr || err.message}`);
    }
    objs = parseAllDocuments(out).map((d) => {
      if (d.errors.length) throw new Error(`YAML error in rendered ${dir}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject;
    }).filter((o) => o && typeof o === "object");
    cache.set(dir, objs);
  }
  return structuredClone(objs);
}

export const id = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;

// ------------------------------------------------------------------ schemas

/** apiVersion group -> module prefix holding the generated models. */
function modulePath(apiVersion: string): string | undefined {
  const [group = "", version = ""] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "") return `kubernetes-models/${version}`;
  if (group === "keda.sh" || group === "eventing.keda.sh") return `@kubernetes-models/keda/${group}/${version}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  if (group.endsWith("cert-manager.io")) return `@kubernetes-models/cert-manager/${group}/${version}`;
  if (group.endsWith(".k8s.io") || ["apps", "autoscaling", "batch", "policy"].includes(group)) {
    return `kubernetes-models/${group}/${version}`;
  }
  return undefined;
}

type ModelCtor = { prototype: { validate(this: unknown): void } };
const modelCache = new Map<string, ModelCtor | null>();

async function modelFor(apiVersion: string, kind: string): Promise<ModelCtor | null> {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key)!;
  const mod = modulePath(apiVersion);
  let ctor: ModelCtor | null = null;
  if (mod) {
    try {
      const m = (await import(mod)) as Record<string, unknown>;
      const c = m[kind] as ModelCtor | undefined;
      if (c && typeof c === "function") ctor = c;
    } catch {
      ctor = null;
    }
  }
  modelCache.set(key, ctor);
  return ctor;
}

/**
 * The generated validators ignore unknown properties. To reject them (like
 * `kubectl apply --validate=strict`), run the validator on a Proxy that records
 * which keys the schema looked at: every schema property is probed
 * (`data.x !== undefined`), maps (additionalProperties) are enumerated. Any own
 * key of an object whose schema probed properties but not that key is unknown.
 */
function trackAccess(root: unknown) {
  const probed = new WeakMap<object, Set<PropertyKey>>();
  const enumerated = new WeakSet<object>();
  const proxies = new WeakMap<object, object>();
  const paths = new WeakMap<object, string>();
  const wrap = (value: unknown, p: string): unknown => {
    if (!value || typeof value !== "object") return value;
    const target = value as object;
    let px = proxies.get(target);
    if (!px) {
      paths.set(target, p);
      px = new Proxy(target, {
        get(t, k, r) {
          if (typeof k === "string") {
            if (!probed.has(t)) probed.set(t, new Set());
            probed.get(t)!.add(k);
            return wrap(Reflect.get(t, k, r), `${paths.get(t)}/${k}`);
          }
          return Reflect.get(t, k, r);
        },
        has(t, k) {
          if (!probed.has(t)) probed.set(t, new Set());
          probed.get(t)!.add(k);
          return Reflect.has(t, k);
        },
        ownKeys(t) {
          enumerated.add(t);
          return Reflect.ownKeys(t);
        },
      });
      proxies.set(target, px);
    }
    return px;
  };
  const unknownFields = (): string[] => {
    const found: string[] = [];
    const walk = (v: unknown, p: string) => {
      if (!v || typeof v !== "object") return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => walk(x, `${p}/${i}`));
        return;
      }
      const obj = v as Record<string, unknown>;
      const seen = probed.get(obj);
      const isMap = enumerated.has(obj);
      // Objects the schema never looked into are free-form (e.g. x-kubernetes-preserve-unknown-fields).
      if (seen && seen.size > 0 && !isMap) {
        for (const k of Object.keys(obj)) if (!seen.has(k)) found.push(`${p}/${k}: unknown field`);
      }
      for (const [k, x] of Object.entries(obj)) walk(x, `${p}/${k}`);
    };
    walk(root, "");
    return found;
  };
  return { proxy: wrap(root, ""), unknownFields };
}

/** Schema errors for one manifest (empty = valid). Unknown kinds are an error. */
export async function validateManifest(obj: K8sObject): Promise<string[]> {
  if (!obj || typeof obj !== "object" || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    return ["manifest without apiVersion/kind"];
  }
  const ctor = await modelFor(obj.apiVersion, obj.kind);
  if (!ctor) return [`${obj.apiVersion} ${obj.kind}: no schema known for this kind`];
  const data = structuredClone(obj);
  const { proxy, unknownFields } = trackAccess(data);
  const errors: string[] = [];
  try {
    ctor.prototype.validate.call(proxy);
  } catch (e) {
    const err = e as { errors?: { instancePath: string; message?: string; keyword?: string; params?: unknown }[]; message?: string };
    if (Array.isArray(err.errors) && err.errors.length) {
      for (const x of err.errors) errors.push(`${x.instancePath || "/"}: ${x.message ?? x.keyword} ${x.params ? JSON.stringify(x.params) : ""}`.trim());
    } else {
      errors.push(String(err.message ?? e));
    }
  }
  errors.push(...unknownFields());
  return errors;
}
