// Resolves k6's built-in modules to the Node shims beside this file (tests only).
const shims = { k6: 'k6.mjs', 'k6/http': 'http.mjs', 'k6/metrics': 'metrics.mjs', 'k6/experimental/fs': 'fs.mjs', 'k6/execution': 'execution.mjs' };
export async function resolve(specifier, context, next) {
  if (specifier in shims) return { url: new URL(shims[specifier], import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
