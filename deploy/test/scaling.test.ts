// Scaling arithmetic on the shipped values: how many detector pods the queue
// autoscaler asks for in the users-500 and users-2000 scenarios.
import { test } from "node:test";
import assert from "node:assert/strict";
import { render, type K8sObject } from "./helpers/render.ts";
import { find, envOf, quantity } from "./helpers/policy.ts";
import { analyse, desiredReplicas, loadCapacity, targetsFrom } from "./helpers/scaling.ts";

const cap = loadCapacity();
const prod = render("prod");
const adapter = render("prod-adapter");
const so = find(prod, "ScaledObject", "detector")!;
const hpaExt = find(adapter, "HorizontalPodAutoscaler", "detector")!;

function kedaLimits(s: K8sObject) {
  const up = s.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleUp.policies as any[];
  return {
    min: s.spec.minReplicaCount,
    max: s.spec.maxReplicaCount,
    scaleUpPercent: up.find((p) => p.type === "Percent").value,
    scaleUpPods: up.find((p) => p.type === "Pods").value,
    periodSeconds: Math.max(...up.map((p) => p.periodSeconds)),
  };
}

test("HPA/KEDA formula: ceil(total / target), clamped to [min, max]", () => {
  assert.deepEqual(desiredReplicas(25, 6, 2, 30), { raw: 5, clamped: 5 });
  assert.deepEqual(desiredReplicas(0, 6, 2, 30), { raw: 0, clamped: 2 });
  assert.deepEqual(desiredReplicas(1000, 6, 2, 30), { raw: 167, clamped: 30 });
  assert.deepEqual(desiredReplicas(24, 6, 2, 30), { raw: 4, clamped: 4 });
});

test("shipped autoscaler targets are the ones capacity.json implies", () => {
  const t = targetsFrom(cap);
  const trig = (list: string) => so.spec.triggers.find((x: any) => x.metadata.listName === list);
  assert.equal(Number(trig("bull:analyses:wait").metadata.listLength), t.waiting, "KEDA waiting target");
  assert.equal(Number(trig("bull:analyses:active").metadata.listLength), t.active, "KEDA active target");
  const ext = (state: string) => hpaExt.spec.metrics.find((m: any) => m.external.metric.selector.matchLabels.state === state);
  assert.equal(quantity(ext("waiting").external.target.averageValue), t.waiting, "HPA External waiting target");
  assert.equal(quantity(ext("active").external.target.averageValue), t.active, "HPA External active target");
  assert.equal(hpaExt.spec.minReplicas, so.spec.minReplicaCount);
  assert.equal(hpaExt.spec.maxReplicas, so.spec.maxReplicaCount);
  const det = find(prod, "Deployment", "detector")!;
  assert.equal(Number(envOf(det, "detector").DETECTOR_CONCURRENCY), cap.detector.concurrencyPerPod, "DETECTOR_CONCURRENCY");
  const res = det.spec.template.spec.containers[0].resources;
  assert.equal(quantity(res.limits.cpu), cap.detector.cpuPerPod, "throughput was measured at this CPU limit");
  assert.equal(quantity(res.requests.cpu), cap.detector.cpuPerPod);
});

test("detector pods asked for in users-500 and users-2000; maxReplicas covers them", () => {
  const limits = kedaLimits(so);
  const rows = cap.scenarios.map((s) => analyse(cap, s, limits));
  const t = targetsFrom(cap);
  console.log(
    `detector autoscaling (capacity.json: ${cap.detector.throughputPerPod} jobs/s/pod at ${cap.detector.cpuPerPod} vCPU, ` +
      `concurrency ${cap.detector.concurrencyPerPod}; targets/pod: active ${t.active}, waiting ${t.waiting}; ` +
      `min ${limits.min}, max ${limits.max})`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.scenario}: arrival ${r.arrivalRate.toFixed(1)} jobs/s -> active ${r.activeJobs.toFixed(1)} ` +
        `(x ${r.jobSeconds.toFixed(2)} s/job) -> steady desired ceil(${r.activeJobs.toFixed(1)}/${t.active}) = ${r.steadyRaw} -> ${r.steadyDesired} pods ` +
        `(${(r.steadyDesired * cap.detector.throughputPerPod).toFixed(0)} jobs/s capacity, bare minimum ${r.podsNeeded}); ` +
        `ramp backlog ${r.rampBacklog.toFixed(0)} -> burst desired ceil(${r.rampBacklog.toFixed(0)}/${t.waiting}) = ${r.burstRaw} -> ${r.burstDesired} pods, ` +
        `reached in ~${r.secondsToBurstDesired} s`,
    );
  }
  for (const r of rows) {
    assert.ok(r.steadyRaw <= limits.max, `${r.scenario}: steady state needs ${r.steadyRaw} pods > maxReplicas ${limits.max}`);
    assert.ok(r.steadyDesired * cap.detector.throughputPerPod >= r.arrivalRate, `${r.scenario}: capacity below arrival rate`);
    assert.ok(r.steadyDesired >= r.podsNeeded);
    // A ramp that leaves a backlog must scale out at least to the steady need on the waiting list
    // alone; one that minReplicas absorbs (no backlog) is left to the active-jobs trigger.
    assert.ok(r.rampBacklog === 0 || r.burstDesired >= r.steadyDesired, `${r.scenario}: burst reaction below steady need`);
  }
  // The numbers quoted in the README / report for the shipped values.
  assert.deepEqual(rows.map((r) => [r.scenario, r.arrivalRate, r.steadyDesired, r.burstDesired]), [
    ["users-500", 125, 8, 29],
    ["users-2000", 500, 32, 40],
  ]);
});

test("the coverage check fails when maxReplicas is too small", () => {
  const limits = { ...kedaLimits(so), max: 10 };
  const big = analyse(cap, cap.scenarios.find((s) => s.name === "users-2000")!, limits);
  assert.ok(big.steadyRaw > limits.max, "users-2000 must not fit in 10 pods");
});
