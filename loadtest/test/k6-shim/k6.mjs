// Minimal k6 shim for running a scenario's VU function in Node (tests only).
const cell = new Int32Array(new SharedArrayBuffer(4));
export function sleep(seconds) {
  if (seconds > 0) Atomics.wait(cell, 0, 0, seconds * 1000);
}
export default { sleep };
