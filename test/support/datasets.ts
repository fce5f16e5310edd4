import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './processes.js';

/**
 * Where the labelled datasets live (read in place, never copied into the repo): DFD_DATASETS_DIR,
 * default ../shared/datasets beside the repository.
 */
export const datasetsDir = resolve(process.env.DFD_DATASETS_DIR ?? join(repoRoot, '..', 'shared', 'datasets'));

/**
 * The one skip rule for tests that need the datasets: outside CI a missing folder skips the test
 * and says why; in CI (CI=true) the datasets must be there, so the test runs and fails.
 */
export function requireDatasets(...names: string[]): string | false {
  const wanted = names.length ? names : ['faces-v1', 'faces-v2'];
  const missing = wanted.filter((n) => !existsSync(join(datasetsDir, n, 'manifest.csv')));
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`datasets missing under ${datasetsDir}: ${missing.join(', ')} (set DFD_DATASETS_DIR)`);
  return `datasets not found under ${datasetsDir}: ${missing.join(', ')} (set DFD_DATASETS_DIR)`;
}
