/** experiments/: the episode loop (written once) and summaries across episodes. */
export { runEpisodes, type EpisodeRecord, type RunOptions } from './rollout.js';
export { summarise, summariseKpis, type IntervalSummary } from './summary.js';
