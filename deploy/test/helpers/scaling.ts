// Autoscaling arithmetic for the detector, from deploy/k8s/capacity.json.
// HPA / KEDA (AverageValue external metrics): desired = ceil(metricTotal / targetPerPod),
// the largest over all metrics, clamped to [min, max].
import { readFileSync } from "node:fs";
import path from "node:path";
import { K8S_DIR } from "./render.ts";

export type Scenario = { name: string; users: number; rampPerSecond: number; thinkTimeSeconds: number; serviceTimeSeconds: number };
export type Capacity = {
  detector: {
    throughputPerPod: number;
    concurrencyPerPod: number;
    cpuPerPod: number;
    targetUtilization: number;
    waitingTargetPerPod: number;
  };
  scenarios: Scenario[];
};

export const loadCapacity = (): Capacity => JSON.parse(readFileSync(path.join(K8S_DIR, "capacity.json"), "utf8"));

export const desiredReplicas = (metricTotal: number, targetPerPod: number, min: number, max: number) => {
  // tiny epsilon so 24/6 stays 4 despite float noise; max(0) avoids -0
  const raw = Math.max(0, Math.ceil(metricTotal / targetPerPod - 1e-9));
  return { raw, clamped: Math.min(max, Math.max(min, raw)) };
};

/** Targets per pod implied by capacity.json (what the ScaledObject/HPA must use). */
export const targetsFrom = (c: Capacity) => ({
  waiting: c.detector.waitingTargetPerPod,
  active: c.detector.concurrencyPerPod * c.detector.targetUtilization,
});

export type ScenarioResult = {
  scenario: string;
  arrivalRate: number;            // jobs/s = users / (think + service)
  jobSeconds: number;             // in-pod time per job = concurrency / throughput
  activeJobs: number;             // Little's law: arrivalRate * jobSeconds
  steadyDesired: number;          // from the active-jobs trigger (waiting ~ 0 once caught up)
  steadyRaw: number;
  podsNeeded: number;             // ceil(arrivalRate / throughputPerPod): bare minimum
  rampBacklog: number;            // waiting jobs when the ramp ends, with minReplicas pods
  burstDesired: number;           // from the waiting-list trigger at that moment
  burstRaw: number;
  secondsToBurstDesired: number;  // with the scale-up policy (max(+100%, +podsStep) per period)
};

export function analyse(
  c: Capacity,
  s: Scenario,
  limits: { min: number; max: number; scaleUpPercent: number; scaleUpPods: number; periodSeconds: number },
): ScenarioResult {
  const d = c.detector;
  const t = targetsFrom(c);
  const arrivalRate = s.users / (s.thinkTimeSeconds + s.serviceTimeSeconds);
  const jobSeconds = d.concurrencyPerPod / d.throughputPerPod;
  const activeJobs = arrivalRate * jobSeconds;
  const steady = desiredReplicas(activeJobs, t.active, limits.min, limits.max);
  // Ramp: every user's first upload arrives within users/rampPerSecond seconds;
  // minReplicas pods drain throughputPerPod each meanwhile (pessimistic: no scale-up yet).
  const rampSeconds = s.users / s.rampPerSecond;
  const rampBacklog = Math.max(0, s.users - limits.min * d.throughputPerPod * rampSeconds);
  const burst = desiredReplicas(rampBacklog, t.waiting, limits.min, limits.max);
  let replicas = limits.min;
  let seconds = 0;
  while (replicas < burst.clamped) {
    replicas = Math.min(burst.clamped, replicas + Math.max(Math.ceil((replicas * limits.scaleUpPercent) / 100), limits.scaleUpPods));
    seconds += limits.periodSeconds;
  }
  return {
    scenario: s.name,
    arrivalRate,
    jobSeconds,
    activeJobs,
    steadyDesired: steady.clamped,
    steadyRaw: steady.raw,
    podsNeeded: Math.ceil(arrivalRate / d.throughputPerPod - 1e-9),
    rampBacklog,
    burstDesired: burst.clamped,
    burstRaw: burst.raw,
    secondsToBurstDesired: seconds,
  };
}
