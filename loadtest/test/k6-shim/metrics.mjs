// k6/metrics shim: records every sample in globalThis.__k6shim.metrics (tests only).
const registry = (globalThis.__k6shim ??= { metrics: {} }).metrics;
class Metric {
  constructor(name) {
    this.name = name;
    registry[name] ??= [];
  }
  add(value, tags) {
    registry[this.name].push({ value, tags });
  }
}
export class Counter extends Metric {}
export class Trend extends Metric {}
export class Rate extends Metric {}
export class Gauge extends Metric {}
export default { Counter, Trend, Rate, Gauge };
