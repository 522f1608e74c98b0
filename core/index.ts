/** core/: what every layer shares: the error type, seeded random streams, seeds, one atomic file write, JSON file reading. Imports nothing else of ours. */
export { PricelabError, formatProblems, type Problem, type ErrorKind } from './errors.js';
export { RandomStream, createStream, componentNames } from './random.js';
export { episodeSeed, evaluationSeed } from './seeds.js';
