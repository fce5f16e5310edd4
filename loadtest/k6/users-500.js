// @ts-check
// k6 run loadtest/k6/users-500.js   (ramps to 500 VUs, 100 new a second, then holds for HOLD; see README)
import { health, scenarioOptions, setup, vu } from './scenario.js';

export const options = scenarioOptions({ name: 'users-500', target: 500, perSecond: 100 });
export { setup, health };
export default vu;
// No summary handler, so k6 prints its standard end-of-test summary. Run with
// --summary-export FILE and `node loadtest/scripts/k6-report.mjs users-500 FILE` for the project's own
// (Markdown and JSON; see README).
