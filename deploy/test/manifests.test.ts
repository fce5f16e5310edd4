// Render every overlay with `kubectl kustomize` and validate each manifest
// against the Kubernetes / CRD schemas (unknown fields and wrong types rejected).
import { test } from "node:test";
import assert from "node:assert/strict";
import { OVERLAYS, render, validateManifest, id, type K8sObject } from "./helpers/render.ts";

const kinds = (objs: K8sObject[]) => objs.map(id);

for (const overlay of OVERLAYS) {
  test(`overlay ${overlay}: every manifest is schema-valid (strict)`, async () => {
    const objs = render(overlay);
    assert.ok(objs.length > 20, `${overlay} rendered only ${objs.length} objects`);
    const problems: string[] = [];
    for (const o of objs) for (const e of await validateManifest(o)) problems.push(`${id(o)} ${e}`);
    assert.deepEqual(problems, []);
  });

  test(`overlay ${overlay}: everything lives in namespace dfd`, () => {
    const stray = render(overlay).filter((o) => o.kind !== "Namespace" && o.metadata.namespace !== "dfd").map(id);
    assert.deepEqual(stray, []);
  });
}

test("base builds on its own with core kinds only", async () => {
  const objs = render("base/");
  const groups = new Set(objs.map((o) => o.apiVersion.split("/").slice(0, -1).join("/")));
  for (const g of groups) assert.ok(["", "apps", "policy", "autoscaling", "networking.k8s.io"].includes(g), `base uses non-core group ${g}`);
  for (const o of objs) assert.deepEqual(await validateManifest(o), [], id(o));
});

test("dev needs no CRDs; prod has KEDA + monitoring; prod-adapter swaps KEDA for an External HPA", () => {
  const dev = render("dev");
  assert.ok(dev.every((o) => !/keda\.sh|monitoring\.coreos\.com|cert-manager\.io/.test(o.apiVersion)), "dev must build/apply without CRDs");
  assert.ok(!dev.some((o) => o.kind === "Ingress" && o.spec.tls), "dev ingress is plain HTTP");
  const prod = kinds(render("prod"));
  for (const k of ["ScaledObject/detector", "ServiceMonitor/gateway", "ServiceMonitor/detector", "ServiceMonitor/classifier", "PrometheusRule/dfd", "ConfigMap/dfd-grafana-dashboard", "HorizontalPodAutoscaler/gateway", "HorizontalPodAutoscaler/classifier", "StatefulSet/redis", "Ingress/gateway"]) {
    assert.ok(prod.includes(k), `prod lacks ${k}`);
  }
  assert.ok(!prod.includes("HorizontalPodAutoscaler/detector"), "KEDA owns the detector HPA in prod");
  assert.ok(!prod.includes("Secret/dfd-gateway-secrets"), "production secrets are never rendered from the repo");
  const adapter = render("prod-adapter");
  assert.ok(!kinds(adapter).includes("ScaledObject/detector"));
  const hpa = adapter.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "detector");
  assert.ok(hpa && hpa.spec.metrics.every((m: any) => m.type === "External"));
});

// ---- the validator itself must be able to fail
const deployment = () => render("prod").find((o) => o.kind === "Deployment" && o.metadata.name === "gateway")!;

test("validator rejects an unknown field", async () => {
  const d = deployment();
  d.spec.template.spec.containers[0].imagePullPolicyy = "Always";
  const errs = await validateManifest(d);
  assert.ok(errs.some((e) => e.includes("containers/0/imagePullPolicyy: unknown field")), errs.join("\n"));
});

test("validator rejects a wrong type", async () => {
  const d = deployment();
  d.spec.template.spec.containers[0].ports[0].containerPort = "8080";
  const errs = await validateManifest(d);
  assert.ok(errs.some((e) => e.includes("containerPort") && e.includes("integer")), errs.join("\n"));
});

test("validator rejects a missing required field", async () => {
  const d = deployment();
  delete d.spec.selector;
  const errs = await validateManifest(d);
  assert.ok(errs.some((e) => e.includes("selector")), errs.join("\n"));
});

test("validator rejects unknown kinds and unknown fields in CRDs", async () => {
  assert.match((await validateManifest({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } }))[0]!, /no schema/);
  const so = render("prod").find((o) => o.kind === "ScaledObject")!;
  so.spec.maxReplicas = 3; // real field is maxReplicaCount
  assert.ok((await validateManifest(so)).some((e) => e.includes("/spec/maxReplicas: unknown field")));
  const sm = render("prod").find((o) => o.kind === "ServiceMonitor")!;
  sm.spec.endpoints[0].interval = 15; // must be a duration string
  assert.ok((await validateManifest(sm)).length > 0);
});

test("map-typed fields (labels, resources) are not mistaken for unknown fields", async () => {
  const d = deployment();
  d.metadata.labels = { ...d.metadata.labels, "example.com/anything": "ok" };
  d.spec.template.spec.containers[0].resources.limits["example.com/gpu"] = "1";
  assert.deepEqual(await validateManifest(d), []);
});

test("gateway: probes and metrics on the ops port, which the Ingress does not route to (issue 11)", () => {
  for (const overlay of OVERLAYS) {
    const objs = render(overlay);
    const d = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "gateway")!;
    const c = d.spec.template.spec.containers[0];
    const ops = c.ports.find((p: any) => p.name === "ops");
    assert.equal(ops?.containerPort, 9100, `${overlay}: gateway declares the ops port`);
    assert.equal(c.env.find((e: any) => e.name === "OPS_PORT")?.value, "9100", `${overlay}: OPS_PORT matches`);
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) assert.equal(c[probe].httpGet.port, "ops", `${overlay}: ${probe} on the ops port`);
    for (const ing of objs.filter((o) => o.kind === "Ingress")) {
      for (const rule of ing.spec.rules ?? []) for (const p of rule.http?.paths ?? []) {
        if (p.backend.service.name === "gateway") assert.notEqual(p.backend.service.port.name ?? p.backend.service.port.number, "ops", `${overlay}: the Ingress must not expose the ops port`);
        assert.notEqual(p.backend.service.port.number, 9100);
      }
    }
    const sm = objs.find((o) => o.kind === "ServiceMonitor" && o.metadata.name === "gateway");
    if (sm) assert.deepEqual(sm.spec.endpoints.map((e: any) => e.port), ["ops"], `${overlay}: gateway metrics scraped from the ops port`);
  }
});
