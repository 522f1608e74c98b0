/**
 * A sweep run's policy artifact: the trained agent's export (agents/artifact.ts, as
 * `pricelab train` writes it: policy.json with every file's sha256, the weights files and
 * scenario.json), kept at `<artifact root>/runs/<run id>/policy` (the store's `home`) and
 * named by the run's manifest (`policy`, relative to the artifact root as checkpoint paths
 * are, with `policySha256`, its content hash), where `runs list` / `runs show` find it.
 *
 * The worker thread builds it (runSweepTask: `exportRunArtifact`) right after training; the
 * main thread of a local sweep, or the submitter of a queue sweep, writes it
 * (`writeRunArtifact`, atomically, after checking every file against policy.json). On the
 * queue the files travel base64 with their sha256 (`encodeArtifactFiles` /
 * `decodeArtifactFiles`): a mismatch fails the run with its reason; an artifact over
 * `maxQueuedArtifactBytes` fails it with a clear error.
 *
 * Deterministic: a run is a function of its seeds, so its artifact is too, byte for byte,
 * whatever ran it (local threads, one thread, a queue worker), and in whichever experiment
 * the same (scenario, agent, seed, budget) ran: the training summary holds steps, episodes
 * and budget but no seconds nor experiment name, and `createdAt` is not a time: when the bytes
 * came to exist is a fact of the run, not of the bytes (the same bytes come out of every
 * execution), so the run's endedAt in the results store says when. The promotion gate's
 * fresh-evidence check reads it there (`policyCreatedAt`) for a version registered with
 * `--training-run <run id>` whose content hash is that run's artifact's; otherwise it refuses, on
 * the safe side. An agent whose export fails gets no artifact; the reason is kept instead.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Agent } from '../agents/agent.js';
import { artifactFileBytes, buildArtifact, manifestFileName, verifyArtifact, writeFilesAtomically, type EmbeddedScenario } from '../agents/artifact.js';
import { PricelabError } from '../core/errors.js';
import type { MarketModel } from '../env/model.js';
import { buildObservationFeatures } from '../env/observation.js';
import type { CouponEnv } from '../env/coupons/coupon-env.js';
import { targetedFeaturesOf } from '../env/coupons/coupon-menu.js';
import { couponObservationFeatures } from './coupon-policy.js';
import { z } from 'zod';
import type { PlannedRun } from './experiment-file.js';
import type { ResultsStoreBackend } from './store-backend.js';
import { homeRelative, runArtifactPath } from './store-rows.js';

/** The files of a run's artifact by name (policy.json included), or why there are none. */
export type RunArtifact = { readonly files: Readonly<Record<string, Uint8Array>> } | { readonly unavailable: string };

/**
 * A sweep artifact's createdAt: not a time, so that the bytes depend on what was trained only
 * (not on when, nor on the experiment's name); the run's endedAt in the results store says when.
 */
export const sweepCreatedAt = 'not recorded (a sweep run: its endedAt in the results store says when; register it with --training-run <run id>)';

const isoTime = z.iso.datetime({ offset: true });

/**
 * When a policy came to exist, for the promotion gate's fresh-evidence check: policy.json's
 * createdAt when it is an ISO time (`pricelab train` writes one); else, for a sweep run's
 * artifact, the endedAt of the finished run its version's lineage names (`policy register
 * --training-run <run id>`), provided that run's artifact is this policy (the sha256 of its
 * policy.json is the version's content hash). Otherwise policy.json's own text, which the gate
 * refuses as not a time.
 */
export async function policyCreatedAt(
  store: ResultsStoreBackend,
  policy: { readonly contentHash: string; readonly createdAt: string; readonly trainingRun?: string | undefined },
): Promise<string> {
  const own = policy.createdAt;
  if (isoTime.safeParse(policy.createdAt).success || policy.trainingRun === undefined) return own;
  const run = await store.getRun(policy.trainingRun);
  if (run?.status !== 'finished' || run.endedAt === null) return own;
  const recorded = (run.manifest as { policySha256?: unknown } | null)?.policySha256;
  const folder = runArtifactPath(run, store.home);
  const manifestFile = folder === null ? undefined : join(folder, manifestFileName);
  // Older runs recorded no hash: the folder's policy.json says it.
  const artifactHash = typeof recorded === 'string' ? recorded : manifestFile !== undefined && existsSync(manifestFile) ? sha256(readFileSync(manifestFile)) : undefined;
  if (artifactHash !== policy.contentHash) return own;
  return run.endedAt;
}

/** The most a queue result carries of an artifact (all files, before base64). */
export const maxQueuedArtifactBytes = 32 * 1024 * 1024;

/** Where a run's artifact goes under the artifact root. */
export function runArtifactFolder(home: string, runId: string): string {
  return join(resolve(home), 'runs', runId, 'policy');
}

/**
 * The trained agent's artifact, as bytes; an export that fails gives its reason instead. On a
 * coupon scenario (`coupons`: the coupon market it trained in) a coupon policy's, as
 * experiments/coupon-train-run.ts writes it: the market's features, prices and campaign menu,
 * and the customer features its coupons may target on.
 */
export async function exportRunArtifact(agent: Agent, run: PlannedRun, model: MarketModel, scenario: EmbeddedScenario, trained: { readonly steps: number; readonly episodes: number }, coupons?: CouponEnv): Promise<RunArtifact> {
  try {
    const artifact = buildArtifact(await agent.export(), {
      name: `${run.scenario.id}-${run.agent.name}`,
      scenario,
      ...(coupons ? { features: couponObservationFeatures(coupons), ladder: coupons.prices, coupons: coupons.menu } : { features: buildObservationFeatures(model), ladder: model.ladder }),
      training: { steps: trained.steps, episodes: trained.episodes, budget: run.budget, ...(coupons ? { targeting: { features: targetedFeaturesOf(coupons.menu) } } : {}) },
      seeds: [run.seed],
      createdAt: sweepCreatedAt,
    });
    return { files: Object.fromEntries(artifactFileBytes(artifact)) };
  } catch (error) {
    return { unavailable: `the ${run.agent.kind} agent's export failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Writes a run's artifact into `<home>/runs/<run id>/policy` atomically, after checking every
 * file against policy.json (an integrity error names the file); a folder left by an earlier
 * attempt of the same run is replaced. Returns the folder.
 */
export function writeRunArtifact(home: string, runId: string, files: Readonly<Record<string, Uint8Array>>): string {
  const target = runArtifactFolder(home, runId);
  const manifestBytes = files[manifestFileName];
  if (manifestBytes === undefined) throw new PricelabError('integrity', `the policy artifact of run ${runId} has no ${manifestFileName}`);
  const names = new Set(Object.keys(files));
  const verified = verifyArtifact(manifestBytes, (name) => files[name], `run ${runId}'s artifact`);
  const listed = new Set([manifestFileName, ...Object.keys(verified.manifest.files)]);
  const extra = [...names].filter((name) => !listed.has(name));
  if (extra.length > 0) throw new PricelabError('integrity', `the policy artifact of run ${runId} carries files its policy.json does not list`, extra.map((name) => ({ path: ['files', name], message: 'expected only the files policy.json lists' })));
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  return writeFilesAtomically(target, new Map(Object.entries(files)));
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** An artifact's files for a queue result: base64 with their sha256; over the cap, a clear error. */
export function encodeArtifactFiles(runId: string, files: Readonly<Record<string, Uint8Array>>): Record<string, { sha256: string; bytes: string }> {
  const total = Object.values(files).reduce((sum, bytes) => sum + bytes.length, 0);
  if (total > maxQueuedArtifactBytes) {
    throw new PricelabError('config', `the policy artifact of run ${runId} is ${(total / 1024 / 1024).toFixed(1)} MiB, more than a queue result carries`, [
      { path: ['artifact'], message: `expected at most ${maxQueuedArtifactBytes / 1024 / 1024} MiB of artifact files, found ${total} bytes; run this experiment locally (without --queue), or make the agent smaller` },
    ]);
  }
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, { sha256: sha256(bytes), bytes: Buffer.from(bytes).toString('base64') }]));
}

/** A queue result's artifact files back to bytes, each checked against the sha256 sent beside it. */
export function decodeArtifactFiles(runId: string, encoded: Readonly<Record<string, { readonly sha256: string; readonly bytes: string }>>): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const problems = [];
  for (const [name, file] of Object.entries(encoded)) {
    const bytes = new Uint8Array(Buffer.from(file.bytes, 'base64'));
    const found = sha256(bytes);
    if (found !== file.sha256) problems.push({ path: ['artifact', 'files', name], message: `expected bytes with sha256 ${file.sha256}, found ${found}` });
    files[name] = bytes;
  }
  if (problems.length > 0) throw new PricelabError('integrity', `the policy artifact of run ${runId} arrived damaged`, problems);
  return files;
}

/** What a finished run's manifest says of its artifact: the folder (`policy`) and its content hash, or none and why. */
export interface RunArtifactRecord {
  /** The folder relative to the artifact root ('/'-separated), as checkpoint paths are kept; the store resolves it on read (runArtifactPath). */
  readonly policy: string | null;
  /** The sha256 of its policy.json: the content hash a registry gives it. */
  readonly policySha256?: string;
  readonly policyUnavailable?: string;
}

/** Writes the run's artifact when it has one (writeRunArtifact) and says what its manifest records. */
export function keepRunArtifact(home: string, runId: string, artifact: RunArtifact): RunArtifactRecord {
  if ('unavailable' in artifact) return { policy: null, policyUnavailable: artifact.unavailable };
  const folder = writeRunArtifact(home, runId, artifact.files);
  return { policy: homeRelative(home, folder) ?? folder, policySha256: sha256(artifact.files[manifestFileName]!) };
}
