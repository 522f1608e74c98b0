/** core/: what every layer shares (imports nothing else of ours). Public here: the error type, seeded random streams and the seed rules; the atomic write, JSON file reading, suggestions, mathjs on demand and the home database are imported from their own files. */
export { PricelabError, formatProblems, type Problem, type ErrorKind } from './errors.js';
export { RandomStream, createStream, componentNames } from './random.js';
export { episodeSeed, evaluationSeed } from './seeds.js';
