/** experiments/: the training and evaluation loop (written once) and summaries across episodes. */
export { train, evaluate, type TrainOptions, type TrainResult, type EvaluatedEpisode, type EvaluateOptions } from './train.js';
export { summarise, summariseKpis, type IntervalSummary } from './summary.js';
