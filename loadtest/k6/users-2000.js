// @ts-check
// k6 run loadtest/k6/users-2000.js   (ramps to 2000 VUs, 500 new a second, then holds for HOLD; see README)
import { scenarioOptions, setup, vu, summary } from './scenario.js';

export const options = scenarioOptions({ name: 'users-2000', target: 2000, perSecond: 500 });
export { setup };
export default vu;
/** @param {any} data */
export function handleSummary(data) {
  return summary('users-2000', data);
}
