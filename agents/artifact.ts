/**
 * Policy artifacts: what leaves the lab. A folder with `policy.json` (format version,
 * name, version, agent kind and config, the scenario id and its content hash, the
 * observation spec, the action spec (price ladder), guardrails, training summary, seeds,
 * code version, created-at, and the sha256 of every weights file) and the weights files.
 *
 * Writing is atomic: files go into a temporary sibling folder renamed into place, so a
 * failure never leaves a half-written artifact. Reading checks every hash: a tampered or
 * missing file is refused with an integrity error naming it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { PricelabError, configError } from '../env/errors.js';
import type { AgentExport } from './agent.js';

export const policyFormatVersion = 1;
export const codeVersion = '0.1.0';

const featureSpecSchema = z.strictObject({ name: z.string(), scale: z.number(), low: z.number().nullable(), high: z.number().nullable() });

export const policyManifestSchema = z.strictObject({
  formatVersion: z.literal(policyFormatVersion),
  name: z.string().min(1),
  version: z.string().min(1),
  agentKind: z.string().min(1),
  agentConfig: z.unknown(),
  scenario: z.strictObject({ id: z.string(), contentHash: z.string() }),
  observation: z.strictObject({ features: z.array(featureSpecSchema) }),
  action: z.strictObject({ ladder: z.array(z.number().positive()).min(1) }),
  guardrails: z.strictObject({ minPrice: z.number(), maxPrice: z.number() }),
  training: z.record(z.string(), z.unknown()),
  seeds: z.array(z.number()),
  codeVersion: z.string(),
  createdAt: z.string(),
  files: z.record(z.string(), z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
});

export type PolicyManifest = z.infer<typeof policyManifestSchema>;

export interface PolicyArtifact {
  readonly manifest: PolicyManifest;
  readonly files: Readonly<Record<string, Uint8Array>>;
}

export interface ArtifactDescription {
  name: string;
  version?: string;
  scenario: { id: string; contentHash: string };
  features: readonly { name: string; scale: number; low: number; high: number }[];
  ladder: Float64Array | readonly number[];
  training: Record<string, unknown>;
  seeds: readonly number[];
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function buildArtifact(exported: AgentExport, description: ArtifactDescription): PolicyArtifact {
  const files: Record<string, { sha256: string; bytes: number }> = {};
  for (const [name, bytes] of Object.entries(exported.files)) {
    if (name === 'policy.json' || name.includes('/') || name.includes('\\') || name.startsWith('.')) throw configError(`cannot name a weights file "${name}"`);
    files[name] = { sha256: sha256(bytes), bytes: bytes.length };
  }
  const ladder = Array.from(description.ladder);
  const manifest: PolicyManifest = {
    formatVersion: policyFormatVersion,
    name: description.name,
    version: description.version ?? '1',
    agentKind: exported.kind,
    agentConfig: exported.config,
    scenario: description.scenario,
    observation: { features: description.features.map(({ name, scale, low, high }) => ({ name, scale, low: Number.isFinite(low) ? low : null, high: Number.isFinite(high) ? high : null })) },
    action: { ladder },
    guardrails: { minPrice: Math.min(...ladder), maxPrice: Math.max(...ladder) },
    training: description.training,
    seeds: [...description.seeds],
    codeVersion,
    createdAt: new Date().toISOString(),
    files,
  };
  return { manifest, files: exported.files };
}

export function writeArtifact(folder: string, artifact: PolicyArtifact): string {
  const target = resolve(folder);
  if (existsSync(target)) throw configError(`cannot write the policy to ${target}`, [{ path: ['out'], message: 'expected a folder that does not exist yet, found an existing one' }]);
  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    for (const [name, bytes] of Object.entries(artifact.files)) writeFileSync(join(staging, name), bytes);
    writeFileSync(join(staging, 'policy.json'), `${JSON.stringify(artifact.manifest, null, 2)}\n`);
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** Reads an artifact folder and verifies it; refuses tampered, missing or extra-but-declared files. */
export function readArtifact(folder: string): PolicyArtifact {
  const target = resolve(folder);
  const manifestPath = join(target, 'policy.json');
  if (!existsSync(manifestPath)) throw new PricelabError('not-found', `no policy at ${target}: expected a folder with policy.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new PricelabError('integrity', `policy.json in ${target} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = policyManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new PricelabError('integrity', `policy.json in ${target} is not a valid manifest`, parsed.error.issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })));
  }
  const manifest = parsed.data;
  const files: Record<string, Uint8Array> = {};
  const problems = [];
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(target, name);
    if (!existsSync(path)) {
      problems.push({ path: ['files', name], message: 'expected the file, found none' });
      continue;
    }
    const bytes = new Uint8Array(readFileSync(path));
    const actual = sha256(bytes);
    if (actual !== expected.sha256) problems.push({ path: ['files', name], message: `expected sha256 ${expected.sha256}, found ${actual}: the file was changed after export` });
    files[name] = bytes;
  }
  if (problems.length > 0) throw new PricelabError('integrity', `the policy at ${target} failed its integrity check`, problems);
  return { manifest, files };
}
