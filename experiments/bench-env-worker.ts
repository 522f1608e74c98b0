/** One isolated measurement of `pricelab bench env` (experiments/bench-env.ts), in a worker thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { buildMarketModel } from '../env/model.js';
import { loadScenario } from '../scenarios/load.js';
import { measureSingle, measureVector, type IsolatedMeasurement } from './bench-env.js';

const task = workerData as IsolatedMeasurement;
const model = buildMarketModel(loadScenario(task.scenario).scenario);
const rate = task.kind === 'single' ? measureSingle(model, task.seconds) : measureVector(model, task.markets, task.seconds);
parentPort?.postMessage(rate);
