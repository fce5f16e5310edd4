// Observability wiring: alert rules, dashboard and adapter rule only use the
// metric names the services export; the fd alert fires before exhaustion.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { K8S_DIR, render } from "./helpers/render.ts";
import { find } from "./helpers/policy.ts";

/** Metric names the services export (issue #5 conventions) + standard ones. */
const APP_METRICS = ["dfd_open_fds", "dfd_max_fds", "dfd_http_request_duration_seconds", "dfd_queue_jobs", "dfd_inference_duration_seconds", "dfd_grpc_client_duration_seconds", "dfd_job_duration_seconds", "dfd_jobs_total", "dfd_redis_memory_used_bytes", "dfd_redis_memory_max_bytes", "dfd_redis_full", "dfd_event_loop_delay_seconds", "dfd_classifier_reachable", "dfd_model_reuse_total", "dfd_classifier_outage_total"];
const HISTOGRAMS = ["dfd_http_request_duration_seconds", "dfd_inference_duration_seconds", "dfd_grpc_client_duration_seconds", "dfd_job_duration_seconds"];
const KNOWN = new Set([...APP_METRICS, ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_count`, `${h}_sum`]), "up", "kube_deployment_status_replicas_available", "container_cpu_usage_seconds_total"]);

export function unknownMetrics(expr: string): string[] {
  const names = expr.match(/\b(dfd_[a-z_]+|up|kube_[a-z_]+|container_[a-z_]+)\b(?=\s*[{[)\s/]|$)/g) ?? [];
  return [...new Set(names.filter((n) => !KNOWN.has(n)))];
}

const prod = render("prod");
const rule = find(prod, "PrometheusRule", "dfd")!;
const rules = rule.spec.groups.flatMap((g: any) => g.rules);

test("PrometheusRule: required alerts exist and use exported metrics only", () => {
  const names = rules.map((r: any) => r.alert);
  for (const a of ["DfdQueueBacklogGrowing", "DfdHighErrorRate", "DfdHighLatencyP95", "DfdFileDescriptorsNearLimit", "DfdRedisMemoryHigh", "DfdRedisFull"]) assert.ok(names.includes(a), `missing alert ${a}`);
  for (const r of rules) {
    assert.deepEqual(unknownMetrics(r.expr), [], `${r.alert} uses unknown metrics`);
    assert.ok(r.labels?.severity, `${r.alert} has no severity`);
    assert.ok(r.annotations?.summary, `${r.alert} has no summary`);
    assert.equal((r.expr.match(/\(/g) ?? []).length, (r.expr.match(/\)/g) ?? []).length, `${r.alert}: unbalanced parentheses`);
  }
  const fd = rules.find((r: any) => r.alert === "DfdFileDescriptorsNearLimit");
  assert.match(fd.expr, /dfd_open_fds[^/]*\/\s*dfd_max_fds[^>]*>\s*0\.8/);
});

test("metric-name check can fail", () => {
  assert.deepEqual(unknownMetrics('rate(dfd_http_requests_total{x="y"}[5m])'), ["dfd_http_requests_total"]);
  assert.deepEqual(unknownMetrics("dfd_open_fds / dfd_max_fds > 0.8"), []);
});

test("Grafana dashboard: valid JSON, every panel queries exported metrics", () => {
  const cm = find(prod, "ConfigMap", "dfd-grafana-dashboard")!;
  assert.equal(cm.metadata.labels?.grafana_dashboard, "1");
  const dash = JSON.parse(cm.data["dfd-overview.json"]);
  assert.equal(dash.uid, "dfd-overview");
  const exprs: string[] = dash.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
  assert.ok(exprs.length >= 8);
  for (const e of exprs) assert.deepEqual(unknownMetrics(e), [], e);
  const used = new Set(exprs.flatMap((e) => e.match(/dfd_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|count|sum)$/, "")));
  for (const m of APP_METRICS) assert.ok(used.has(m), `dashboard does not show ${m}`);
  const ids = dash.panels.map((p: any) => p.id);
  assert.equal(new Set(ids).size, ids.length, "duplicate panel ids");
});

test("ServiceMonitors cover the three services", () => {
  const sms = prod.filter((o) => o.kind === "ServiceMonitor").map((o) => o.metadata.name).sort();
  assert.deepEqual(sms, ["classifier", "detector", "gateway"]);
});

test("prometheus-adapter rule serves the External metric the alternative HPA reads", () => {
  const values = parse(readFileSync(path.join(K8S_DIR, "components/detector-hpa-external/prometheus-adapter-values.yaml"), "utf8"));
  const hpa = find(render("prod-adapter"), "HorizontalPodAutoscaler", "detector")!;
  const exposed = values.rules.external.map((r: any) => r.name.as);
  for (const m of hpa.spec.metrics) assert.ok(exposed.includes(m.external.metric.name), `adapter does not expose ${m.external.metric.name}`);
  for (const r of values.rules.external) {
    assert.deepEqual(unknownMetrics(r.seriesQuery), []);
    assert.match(r.metricsQuery, /^max\(/, "several pods export the same queue gauge: aggregate with max, not sum");
  }
});
