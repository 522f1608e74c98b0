/**
 * What every sweep runner (experiment sweeps, Calvano grids, the queue's submitter) checks
 * before it runs anything, and what it reports at the end: the worker count asked for, the
 * refusal of an experiment already in the store unless --resume continues it, and the counts.
 */
import { availableParallelism } from 'node:os';
import { configError } from '../core/errors.js';

/** What a sweep reports at the end, whatever runs its units (runs or sessions). */
export interface SweepCounts {
  readonly total: number;
  readonly finished: number;
  readonly failed: number;
  readonly skipped: number;
  readonly workers: number;
  readonly wallSeconds: number;
  readonly stopped: boolean;
}

/** The worker count asked for (default: the machine's cores), refused unless a positive whole number. */
export function requestedWorkers(workers: number | undefined, what: string): number {
  const requested = workers ?? availableParallelism();
  if (!Number.isInteger(requested) || requested < 1) throw configError(`invalid ${what} options`, [{ path: ['workers'], message: `expected a positive whole number, found ${requested}` }]);
  return requested;
}

export interface StoredExperiment {
  readonly experiment: string;
  /** What the experiment is made of: "runs" or "sessions". */
  readonly unit: string;
  /** How many units the experiment has. */
  readonly total: number;
  /** The statuses of its units already in the store. */
  readonly stored: readonly string[];
  /** The store, as its messages name it. */
  readonly storePath: string;
  readonly resume: boolean | undefined;
  /** What --resume does beyond skipping finished units (e.g. the queue joins queued jobs). */
  readonly resumeNote?: string;
}

/** Refuses to start an experiment some of whose units are already stored, unless --resume continues it. */
export function refuseStoredWithoutResume(experiment: StoredExperiment): void {
  const { stored, unit } = experiment;
  if (stored.length === 0 || experiment.resume) return;
  const finished = stored.filter((status) => status === 'finished').length;
  const note = experiment.resumeNote === undefined ? '' : `; ${experiment.resumeNote}`;
  throw configError(`experiment "${experiment.experiment}" already has ${stored.length} of its ${experiment.total} ${unit} in ${experiment.storePath} (${finished} finished)`, [
    { path: ['resume'], message: `expected --resume to continue it (finished ${unit} are skipped${note}), or another experiment name or PRICELAB_HOME` },
  ]);
}
