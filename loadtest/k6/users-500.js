// @ts-check
// k6 run loadtest/k6/users-500.js   (ramps to 500 VUs, 100 new a second, then holds for HOLD; see README)
import { scenarioOptions, setup, vu, summary } from './scenario.js';

export const options = scenarioOptions({ name: 'users-500', target: 500, perSecond: 100 });
export { setup };
export default vu;
/** @param {any} data */
export function handleSummary(data) {
  return summary('users-500', data);
}
