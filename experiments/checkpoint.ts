/**
 * Run checkpoints: a run's state at a training episode boundary, as one JSON file under
 * the pricelab home (`checkpoints/<run key>/episode-<n>.json`): where training stands (steps,
 * episodes, every episode's reward) and the agent's full learner state (AgentCheckpoint).
 *
 * Files are written atomically (a temporary file renamed into place) and named by episode,
 * so the file the store points at is never overwritten; the store row that points at a
 * file (with its sha256) is updated in a transaction only after the file is in place.
 * Reading checks the sha256: a damaged file is an integrity error, never a silent restart.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentCheckpoint } from '../agents/agent.js';
import { writeFileAtomically } from '../core/atomic-write.js';
import { PricelabError } from '../core/errors.js';
import type { TrainBoundary } from './train.js';

export const checkpointFormat = 'pricelab/run-checkpoint@1';

export interface RunCheckpoint {
  readonly format: typeof checkpointFormat;
  readonly runId: string;
  readonly boundary: TrainBoundary;
  readonly agent: AgentCheckpoint;
}

const runCheckpointSchema = z.strictObject({
  format: z.literal(checkpointFormat),
  runId: z.string(),
  boundary: z.strictObject({ steps: z.number().int().nonnegative(), episodes: z.number().int().nonnegative(), episodeRewards: z.array(z.number()) }),
  agent: z.strictObject({ kind: z.string(), state: z.unknown() }),
});

/** The folder of a run's checkpoints. */
export function checkpointFolder(home: string, runId: string): string {
  return join(home, 'checkpoints', runId);
}

/** Writes a checkpoint atomically; returns its path and the sha256 of its bytes. */
export function writeCheckpoint(home: string, checkpoint: RunCheckpoint): { path: string; sha256: string } {
  const folder = checkpointFolder(home, checkpoint.runId);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `episode-${checkpoint.boundary.episodes}.json`);
  const bytes = Buffer.from(JSON.stringify(checkpoint));
  writeFileAtomically(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Reads a checkpoint, checking its sha256 and shape. */
export function readCheckpoint(path: string, sha256: string): RunCheckpoint {
  if (!existsSync(path)) throw new PricelabError('integrity', `the checkpoint ${path} the store points at is missing`);
  const bytes = readFileSync(path);
  const found = createHash('sha256').update(bytes).digest('hex');
  if (found !== sha256) throw new PricelabError('integrity', `the checkpoint ${path} is damaged`, [{ path: ['sha256'], message: `expected ${sha256}, found ${found}` }]);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PricelabError('integrity', `the checkpoint ${path} is not valid`, [{ path: [], message: `expected JSON, found ${(error as Error).message}` }]);
  }
  const parsed = runCheckpointSchema.safeParse(json);
  if (!parsed.success) {
    throw new PricelabError('integrity', `the checkpoint ${path} is not valid`, parsed.error.issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })));
  }
  return parsed.data as RunCheckpoint;
}

/** Removes a checkpoint file that no store row points at any more (missing is fine). */
export function removeCheckpointFile(path: string): void {
  rmSync(path, { force: true });
}

/** Removes every checkpoint of a run (after it finished). */
export function removeCheckpoints(home: string, runId: string): void {
  rmSync(checkpointFolder(home, runId), { recursive: true, force: true });
}
