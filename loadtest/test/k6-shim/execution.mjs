// Minimal k6/execution shim (tests only): no scenario stages known, so the VU's load window never ends.
export default { scenario: { name: 'shim', startTime: Date.now() }, test: { options: { scenarios: {} } } };
