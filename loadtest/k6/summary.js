// @ts-check
/**
 * The project's own summary of a scenario run, from k6's end-of-test data: plain JavaScript with
 * no k6 imports, so Node renders it (scripts/k6-report.mjs) from `k6 run --summary-export FILE` while k6
 * prints its standard summary unchanged.
 */

/** @param {any} v */
const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v === undefined ? '-' : String(v));

export const COUNTERS = ['jobs_accepted', 'jobs_completed', 'jobs_failed', 'jobs_lost', 'rejected_429', 'uploads_throttled', 'uploads_given_up', 'upload_retries_same_image', 'server_errors_5xx', 'transport_errors', 'unexpected_4xx', 'healthz_errors'];
export const TRENDS = ['accept_ms', 'verdict_ms', 'throttled_ms', 'total_ms', 'healthz_ms', 'http_req_duration'];

/**
 * k6's --summary-export file (the legacy layout: a metric's values at top level, `thresholds`
 * as {expression: failed}) in the layout handleSummary() receives ({values}, {expression: {ok}}).
 * @param {any} exported @returns {any}
 */
export function fromExport(exported) {
  /** @type {Record<string, any>} */
  const metrics = {};
  for (const [name, m] of Object.entries(exported.metrics ?? {})) {
    const { thresholds, ...values } = /** @type {any} */ (m);
    if (values.value !== undefined && values.rate === undefined && values.passes !== undefined) values.rate = values.value;
    /** @type {Record<string, { ok: boolean }>} */
    const t = {};
    for (const [expr, failed] of Object.entries(thresholds ?? {})) t[expr] = { ok: !failed };
    metrics[name] = { values, thresholds: t };
  }
  const it = metrics.iterations?.values;
  const durationMs = it && it.rate > 0 ? (it.count / it.rate) * 1000 : undefined;
  return { metrics, state: { testRunDurationMs: durationMs } };
}

/**
 * Markdown: the project's counters, latencies and thresholds.
 * @param {string} name @param {any} data @param {{ baseUrl?: string }} [opts] @returns {string}
 */
export function summaryMarkdown(name, data, opts = {}) {
  const m = data.metrics ?? {};
  const count = (/** @type {string} */ k) => m[k]?.values?.count ?? 0;
  const trend = (/** @type {string} */ k) => m[k]?.values ?? {};
  const lines = [
    `# Load test ${name}`,
    '',
    `Target ${opts.baseUrl ?? '-'}; ${fmt(m.vus_max?.values?.max)} VUs at most; ${fmt(m.iterations?.values?.count)} iterations in ${fmt((data.state?.testRunDurationMs ?? 0) / 1000)} s.`,
    '',
    '| counter | count |',
    '| --- | ---: |',
    ...COUNTERS.map((k) => `| ${k} | ${count(k)} |`),
    '',
    'verdict_ms runs from acceptance (the deadline VERDICT_TIMEOUT_S applies to it); throttled_ms is the time an upload spent refused with 429 before acceptance; total_ms is first attempt to verdict.',
    '',
    '| latency (ms) | med | p95 | p99 | max | count |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...TRENDS.map((k) => `| ${k} | ${fmt(trend(k).med)} | ${fmt(trend(k)['p(95)'])} | ${fmt(trend(k)['p(99)'])} | ${fmt(trend(k).max)} | ${fmt(trend(k).count)} |`),
    '',
    `Throughput: ${fmt(m.jobs_completed?.values?.rate)} verdicts/s, ${fmt(m.http_reqs?.values?.rate)} requests/s.`,
    '',
    '| threshold | ok |',
    '| --- | --- |',
  ];
  for (const [metric, v] of Object.entries(m)) {
    for (const [expr, t] of Object.entries(/** @type {any} */ (v).thresholds ?? {})) lines.push(`| ${metric}: \`${expr}\` | ${/** @type {any} */ (t).ok ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n') + '\n';
}
