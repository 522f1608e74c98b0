/** pricelab's public TypeScript API. */
export * from './core/index.js';
export * from './env/index.js';
export * from './scenarios/index.js';
export * from './agents/index.js';
export * from './experiments/index.js';
export * from './serving/index.js';
export * from './calibration/index.js';
