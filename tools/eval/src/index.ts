export { loadDataset, manifestRecords, type Sample } from './dataset.js';
export { csvCells, csvField, csvRecords } from './csv.js';
export { evaluate, type EvaluateOptions } from './evaluate.js';
export { binaryMetrics, rocAuc, rocCurve, type BinaryMetrics } from './metrics.js';
export { toMarkdown, rocPng, type EvalReport } from './report.js';
export { laplacianVariance } from './sharpness.js';
export { groupBootstrap, percentileInterval, weightedAuc } from './bootstrap.js';
export { compareScores, comparisonMarkdown, readScores, type Comparison } from './compare.js';
