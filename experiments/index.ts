/** experiments/: the training and evaluation loop (written once) and summaries across episodes. */
export { train, evaluate, type TrainOptions, type TrainResult, type EvaluatedEpisode, type EvaluateOptions } from './train.js';
export { trainVector, type VectorTrainOptions, type VectorTrainResult } from './train.js';
export { runTrainingLoop, type TrainingLoopOptions, type TrainingLoopResult } from './training-loop.js';
export { CallbackList, type TrainingCallback, type TrainingLoop, type TrainingEnd, type TrainingMarkets } from './training-callback.js';
export { EvaluationCallback } from './evaluation-callback.js';
export { ExploringStartsCallback } from './exploring-starts.js';
export { trainPopulation, type PopulationOptions, type PopulationResult } from './population.js';
export { chooseChangeMargin, MarginChoiceCallback, type MarginSelection, type MarginSelectionOptions } from './margin-selection.js';
export { summarise, summariseKpis, type IntervalSummary } from './summary.js';
export { reproduceCalvano, loadCalvanoConfig, summariseCalvano } from './reproduce-calvano.js';
export { agentFor, restoredAgentFor, contextFor } from './setup.js';
export { runCompetition, ladderDiscretisation, profitGainAt } from './competition.js';
export { compare, comparisonSummarySchema, comparisonSchemaVersion, type ComparisonSummary, type CompareOptions, type ComparisonOutcome } from './compare.js';
export { writeReport } from './report/write.js';
export * as statistics from './statistics/index.js';
export { ResultsStore, resultsHome, type ComparisonRow, type RunStatus } from './store.js';
export { openResultsStore, usingResultsStore, storeLocation, type ResultsStoreBackend, type StoreLocation } from './store.js';
