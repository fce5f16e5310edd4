// @ts-check
// k6 run loadtest/k6/users-2000.js   (ramps to 2000 VUs, 500 new a second, then holds for HOLD; see README)
import { health, scenarioOptions, setup, vu } from './scenario.js';

export const options = scenarioOptions({ name: 'users-2000', target: 2000, perSecond: 500 });
export { setup, health };
export default vu;
// No summary handler, so k6 prints its standard end-of-test summary. Run with
// --summary-export FILE and `node loadtest/scripts/k6-report.mjs users-2000 FILE` for the project's own
// (Markdown and JSON; see README).
