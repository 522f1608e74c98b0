/**
 * Policy artifacts: what leaves the lab. A folder with `policy.json` (format version,
 * name, version, agent kind and config, the scenario id and its content hash, the
 * observation spec, the action spec (price ladder), guardrails, training summary, seeds,
 * code version, created-at, and the sha256 of every file), the weights files, and
 * `scenario.json`: the scenario the policy was trained on, byte for byte as it was loaded
 * (its sha256 is the scenario content hash), so serving never depends on a file path or on
 * the built-in scenarios. Artifacts from before scenario.json have only the id and hash.
 *
 * File names listed in policy.json are plain base names (`artifactFileNameProblem`): no
 * separators, no `.`/`..`, no hidden or absolute names, no NUL; checked before anything is
 * read or hashed, at export, register, HTTP upload and load alike. Files are read without
 * following symbolic links and must be regular files.
 *
 * Writing is atomic: files go into a temporary sibling folder renamed into place, so a
 * failure never leaves a half-written artifact. Reading checks every hash: a tampered or
 * missing file is refused with an integrity error naming it; given the content hash a
 * registry recorded (sha256 of policy.json), reading checks it before anything else.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { PricelabError, configError, type Problem } from '../core/errors.js';
import type { LoadedScenario } from '../scenarios/load.js';
import type { AgentExport } from './agent.js';
import { couponMenuSchema, type CouponMenu } from '../env/coupons/coupon-menu.js';

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
  action: z.strictObject({
    ladder: z.array(z.number().positive()).min(1),
    /** A coupon policy: its actions are ladder prices x (no coupon, each campaign) (env/coupons/coupon-menu.ts). */
    coupons: couponMenuSchema.optional(),
  }),
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
  /** The agent's weights files by name (what `restore` reads); scenario.json is apart. */
  readonly files: Readonly<Record<string, Uint8Array>>;
  /** scenario.json: the scenario file the policy was trained on (absent in older artifacts). */
  readonly scenarioFile?: Uint8Array | undefined;
}

/** A policy artifact read back from storage, with the sha256 of its policy.json bytes. */
export interface ReadPolicyArtifact extends PolicyArtifact {
  /** sha256 of policy.json: the version's content hash, which the registry records. */
  readonly contentHash: string;
  /** policy.json's bytes exactly as read (a copy keeps them, so the hash stays). */
  readonly manifestBytes: Uint8Array;
}

/** The scenario a policy was trained on: its id, content hash and file bytes. */
export interface EmbeddedScenario {
  readonly id: string;
  readonly contentHash: string;
  /** The scenario file's bytes; their sha256 is `contentHash`. */
  readonly bytes: Uint8Array;
}

export interface ArtifactDescription {
  name: string;
  version?: string;
  scenario: EmbeddedScenario;
  features: readonly { name: string; scale: number; low: number; high: number }[];
  ladder: Float64Array | readonly number[];
  /** A coupon policy's campaign menu: each action is a ladder price and a coupon choice. */
  coupons?: CouponMenu;
  training: Record<string, unknown>;
  seeds: readonly number[];
  /** The manifest's createdAt; default now (a sweep run passes a fixed text so its artifact is a function of its seeds). */
  createdAt?: string;
}

export const manifestFileName = 'policy.json';
export const scenarioFileName = 'scenario.json';

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const plainFileName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Why `name` cannot name a file of an artifact, or undefined when it can: a plain base name
 * of letters, digits, '.', '_' and '-' (at most 128), not starting with '.' (so no `.`,
 * `..` or hidden files), hence no separators, absolute paths, NUL or control characters.
 */
export function artifactFileNameProblem(name: string): string | undefined {
  if (plainFileName.test(name) && !name.includes('..')) return undefined;
  return `expected a plain file name (letters, digits, '.', '_', '-'; not starting with '.'; no '..'; at most 128), found ${JSON.stringify(name.length > 140 ? `${name.slice(0, 140)}...` : name)}`;
}

/** Problems with the file names an artifact lists: bad names, reserved names, names equal but for case. */
export function fileNameProblems(names: readonly string[], path: readonly (string | number)[] = ['files']): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const problem = artifactFileNameProblem(name);
    if (problem !== undefined) {
      problems.push({ path: [...path, name], message: problem });
      continue;
    }
    if (name === manifestFileName) problems.push({ path: [...path, name], message: `expected a weights or scenario file, found ${manifestFileName}, which is the manifest itself` });
    const folded = name.toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) problems.push({ path: [...path, name], message: `expected names that differ by more than case, found "${earlier}" too` });
    seen.set(folded, name);
  }
  return problems;
}

/** The scenario a run loaded, ready to embed: re-reads its file and checks it is the file that was loaded. */
export function embeddedScenarioOf(loaded: Pick<LoadedScenario, 'scenario' | 'contentHash' | 'source'>): EmbeddedScenario {
  const bytes = new TextEncoder().encode(readFileSync(loaded.source, 'utf8'));
  const found = sha256(bytes);
  if (found !== loaded.contentHash) {
    throw new PricelabError('integrity', `the scenario file ${loaded.source} changed while the policy was made`, [{ path: ['scenario', 'contentHash'], message: `expected ${loaded.contentHash} (as loaded), found ${found}` }]);
  }
  return { id: loaded.scenario.id, contentHash: loaded.contentHash, bytes };
}

export function buildArtifact(exported: AgentExport, description: ArtifactDescription): PolicyArtifact {
  const names = Object.keys(exported.files);
  const problems = fileNameProblems(names);
  for (const name of names) if (name.toLowerCase() === scenarioFileName) problems.push({ path: ['files', name], message: `expected a weights file, found ${scenarioFileName}, which is reserved for the scenario` });
  if (problems.length > 0) throw configError(`cannot name the ${exported.kind} agent's weights files so`, problems);
  const scenarioHash = sha256(description.scenario.bytes);
  if (scenarioHash !== description.scenario.contentHash) {
    throw new PricelabError('integrity', `the scenario bytes of ${description.scenario.id} do not match its content hash`, [{ path: ['scenario', 'contentHash'], message: `expected ${description.scenario.contentHash}, found ${scenarioHash}` }]);
  }
  const files: Record<string, { sha256: string; bytes: number }> = {};
  for (const [name, bytes] of Object.entries(exported.files)) files[name] = { sha256: sha256(bytes), bytes: bytes.length };
  files[scenarioFileName] = { sha256: scenarioHash, bytes: description.scenario.bytes.length };
  const ladder = Array.from(description.ladder);
  const manifest: PolicyManifest = {
    formatVersion: policyFormatVersion,
    name: description.name,
    version: description.version ?? '1',
    agentKind: exported.kind,
    agentConfig: exported.config,
    scenario: { id: description.scenario.id, contentHash: description.scenario.contentHash },
    observation: { features: description.features.map(({ name, scale, low, high }) => ({ name, scale, low: Number.isFinite(low) ? low : null, high: Number.isFinite(high) ? high : null })) },
    action: description.coupons ? { ladder, coupons: description.coupons } : { ladder },
    guardrails: { minPrice: Math.min(...ladder), maxPrice: Math.max(...ladder) },
    training: description.training,
    seeds: [...description.seeds],
    codeVersion,
    createdAt: description.createdAt ?? new Date().toISOString(),
    files,
  };
  return { manifest, files: exported.files, scenarioFile: description.scenario.bytes };
}

/** The bytes of every file of an artifact, policy.json included, by file name. */
export function artifactFileBytes(artifact: PolicyArtifact, manifestBytes?: Uint8Array): Map<string, Uint8Array> {
  const names = [...Object.keys(artifact.files), ...(artifact.scenarioFile ? [scenarioFileName] : [])];
  const problems = fileNameProblems(names);
  if (problems.length > 0) throw new PricelabError('integrity', 'the artifact lists files it cannot hold', problems);
  const bytes = new Map<string, Uint8Array>(Object.entries(artifact.files));
  if (artifact.scenarioFile) bytes.set(scenarioFileName, artifact.scenarioFile);
  bytes.set(manifestFileName, manifestBytes ?? new TextEncoder().encode(`${JSON.stringify(artifact.manifest, null, 2)}\n`));
  return bytes;
}

/**
 * Writes the files into a new folder `target` atomically (a temporary sibling renamed into
 * place); `staging` names that sibling. On failure nothing is left behind.
 */
export function writeFilesAtomically(target: string, files: ReadonlyMap<string, Uint8Array>, staging = `${target}.partial-${process.pid}`): string {
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true });
    writeFilesInto(staging, files);
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** Writes each file into `folder` as a new regular file (never over one), names checked first. */
export function writeFilesInto(folder: string, files: ReadonlyMap<string, Uint8Array>): void {
  const problems = fileNameProblems([...files.keys()].filter((name) => name !== manifestFileName));
  if (problems.length > 0) throw new PricelabError('integrity', 'cannot write files with these names into an artifact', problems);
  for (const [name, bytes] of files) writeFileSync(join(folder, name), bytes, { flag: 'wx' });
}

export function writeArtifact(folder: string, artifact: PolicyArtifact): string {
  const target = resolve(folder);
  if (existsSync(target)) throw configError(`cannot write the policy to ${target}`, [{ path: ['out'], message: 'expected a folder that does not exist yet, found an existing one' }]);
  mkdirSync(dirname(target), { recursive: true });
  return writeFilesAtomically(target, artifactFileBytes(artifact));
}

/**
 * A regular file's bytes, read without following a symbolic link (and without blocking on
 * a FIFO or device); undefined when there is no such file.
 */
export function readRegularFile(path: string, label: string): Uint8Array | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new PricelabError('integrity', `${label} is a symbolic link`, [{ path: [label], message: 'expected a regular file (artifacts hold copies, never links), found a symbolic link' }]);
    if (code === 'EISDIR') throw new PricelabError('integrity', `${label} is a folder`, [{ path: [label], message: 'expected a regular file, found a folder' }]);
    throw new PricelabError('integrity', `cannot read ${label}`, [{ path: [label], message: `expected a readable regular file, found ${code ?? (error as Error).message}` }]);
  }
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new PricelabError('integrity', `${label} is not a regular file`, [{ path: [label], message: `expected a regular file, found a ${stats.isDirectory() ? 'folder' : stats.isFIFO() ? 'pipe' : stats.isSocket() ? 'socket' : 'device or other special file'}` }]);
    return new Uint8Array(readFileSync(descriptor));
  } finally {
    closeSync(descriptor);
  }
}

export interface ExpectedContent {
  /** The content hash recorded for this artifact (sha256 of policy.json). */
  readonly contentHash: string;
  /** How errors name the artifact, e.g. `everyday@3`. */
  readonly label: string;
}

/**
 * Verifies an artifact given its policy.json bytes and a way to read its other files:
 * the content hash (when expected), the manifest, the file names (before any file is
 * read), then every file's sha256. `readFile` returns undefined for a missing file.
 */
export function verifyArtifact(manifestBytes: Uint8Array, readFile: (name: string) => Uint8Array | undefined, where: string, expected?: ExpectedContent): ReadPolicyArtifact {
  const contentHash = sha256(manifestBytes);
  if (expected !== undefined && contentHash !== expected.contentHash) {
    throw new PricelabError('integrity', `${expected.label} was changed after it was registered: refused`, [
      { path: [manifestFileName], message: `expected sha256 ${expected.contentHash} (recorded at registration), found ${contentHash}` },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (error) {
    throw new PricelabError('integrity', `policy.json in ${where} is not valid JSON`, [
      { path: [manifestFileName], message: `expected the manifest as UTF-8 JSON, found ${manifestBytes.length} bytes that do not parse: ${(error as Error).message}` },
    ]);
  }
  // File names first, on the raw JSON (before the schema builds objects from them).
  const listed = (json as { files?: unknown } | null)?.files;
  if (listed !== null && typeof listed === 'object' && !Array.isArray(listed)) {
    const problems = fileNameProblems(Object.keys(listed));
    if (problems.length > 0) throw new PricelabError('integrity', `policy.json in ${where} lists files outside the artifact or with names it cannot hold`, problems);
  }
  const parsed = policyManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new PricelabError('integrity', `policy.json in ${where} is not a valid manifest`, parsed.error.issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })));
  }
  const manifest = parsed.data;
  const files: Record<string, Uint8Array> = {};
  let scenarioFile: Uint8Array | undefined;
  const problems: Problem[] = [];
  for (const [name, entry] of Object.entries(manifest.files)) {
    const bytes = readFile(name);
    if (bytes === undefined) {
      problems.push({ path: ['files', name], message: 'expected the file, found none' });
      continue;
    }
    const actual = sha256(bytes);
    if (actual !== entry.sha256) problems.push({ path: ['files', name], message: `expected sha256 ${entry.sha256}, found ${actual}: the file was changed after export` });
    else if (bytes.length !== entry.bytes) problems.push({ path: ['files', name], message: `expected ${entry.bytes} bytes, found ${bytes.length}` });
    if (name === scenarioFileName) scenarioFile = bytes;
    else files[name] = bytes;
  }
  if (scenarioFile !== undefined && sha256(scenarioFile) !== manifest.scenario.contentHash) {
    problems.push({ path: ['scenario', 'contentHash'], message: `expected the sha256 of ${scenarioFileName} (${sha256(scenarioFile)}), found ${manifest.scenario.contentHash}` });
  }
  if (problems.length > 0) throw new PricelabError('integrity', `the policy at ${where} failed its integrity check`, problems);
  return { manifest, files, scenarioFile, contentHash, manifestBytes };
}

/**
 * Reads an artifact folder and verifies it; refuses tampered, missing, linked or
 * non-regular files and names outside the folder. With `expected`, policy.json must have
 * the recorded content hash (checked before anything else is read).
 */
export function readArtifact(folder: string, expected?: ExpectedContent): ReadPolicyArtifact {
  const target = resolve(folder);
  const manifestBytes = readRegularFile(join(target, manifestFileName), expected ? `${manifestFileName} of ${expected.label}` : join(target, manifestFileName));
  if (manifestBytes === undefined) throw new PricelabError(expected ? 'integrity' : 'not-found', `no policy at ${target}: expected a folder with policy.json`);
  return verifyArtifact(manifestBytes, (name) => readRegularFile(join(target, name), join(target, name)), target, expected);
}
