/**
 * TensorFlow.js, loaded once per process, on the best backend this machine has.
 *
 *   'node'  @tensorflow/tfjs-node (libtensorflow, native): the fastest, but its install
 *           script downloads libtensorflow, so pricelab does not depend on it; it is used
 *           when a user has installed it.
 *   'wasm'  @tensorflow/tfjs-backend-wasm (XNNPACK compiled to WebAssembly, with SIMD).
 *           Its .wasm binaries ship inside the package and load from its folder on disk,
 *           never from a URL. Single-threaded under Node: tfjs turns wasm threads off
 *           there (its workers are Blob URLs, which Node's Worker refuses), so
 *           setThreadsCount has no effect; `threads` in BackendInfo says what runs.
 *   'cpu'   plain JavaScript kernels: always there, slowest.
 *   'auto'  the first of node, wasm, cpu that initialises.
 *
 * The module itself (about 0.4 s to import) loads on first use, so commands that never
 * touch a network do not pay for it. The backend is process-wide: the first call decides;
 * a later call asking for a different named backend is refused with a config error that
 * says which one is active (pass 'auto' to accept it).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { configError } from '../core/errors.js';

export type TensorflowModule = typeof Tf;

export const backendChoices = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];
type BackendKind = Exclude<BackendChoice, 'auto'>;

export interface BackendInfo {
  /** Which backend runs: 'node' (tfjs-node), 'wasm' or 'cpu'. */
  readonly kind: BackendKind;
  /** tfjs's own name for it (tf.getBackend()): 'tensorflow', 'wasm' or 'cpu'. */
  readonly tfjsName: string;
  /** What the first caller asked for. */
  readonly requested: BackendChoice;
  /** Version of @tensorflow/tfjs-core. */
  readonly version: string;
  /** wasm only: the binary in use (SIMD or not) and XNNPACK's thread count. */
  readonly wasm?: { readonly simd: boolean; readonly threads: number; readonly binaryFolder: string };
  /** Why faster backends were passed over (for 'auto'). */
  readonly notes: readonly string[];
}

export interface Tensorflow {
  readonly tf: TensorflowModule;
  readonly backend: BackendInfo;
}

const tfjsNames: Record<BackendKind, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let loading: Promise<Tensorflow> | undefined;
let active: Tensorflow | undefined;

/** Loads TensorFlow.js on the requested backend (once per process) and says which one runs. */
export async function loadTensorflow(requested: BackendChoice = 'auto'): Promise<Tensorflow> {
  if (!backendChoices.includes(requested)) {
    throw configError(`unknown TensorFlow.js backend "${String(requested)}"`, [{ path: ['backend'], message: `expected one of ${backendChoices.join(', ')}, found "${String(requested)}"` }]);
  }
  if (!loading) {
    loading = start(requested).then(
      (loaded) => (active = loaded),
      (error: unknown) => {
        loading = undefined; // a failed start may be retried with another choice
        throw error;
      },
    );
  }
  const loaded = await loading;
  if (requested !== 'auto' && requested !== loaded.backend.kind) {
    throw configError(`cannot switch TensorFlow.js to the "${requested}" backend`, [
      {
        path: ['backend'],
        message: `expected "${requested}", found "${loaded.backend.kind}" already active in this process (backends are process-wide): choose backend "auto" or "${loaded.backend.kind}", or run in a new process`,
      },
    ]);
  }
  return loaded;
}

/** The active backend, or undefined before the first loadTensorflow(). */
export function activeBackend(): BackendInfo | undefined {
  return active?.backend;
}

async function start(requested: BackendChoice): Promise<Tensorflow> {
  const notes: string[] = [];
  if (requested === 'node' || requested === 'auto') {
    try {
      return await startNode(requested, notes);
    } catch (error) {
      const reason = `@tensorflow/tfjs-node is not available (${messageOf(error)})`;
      if (requested === 'node') throw unavailable('node', `${reason}: install it with "npm install @tensorflow/tfjs-node" (its install downloads libtensorflow), or choose backend "wasm" or "auto"`);
      notes.push(reason);
    }
  }
  const tf = await import('@tensorflow/tfjs');
  if (requested === 'wasm' || requested === 'auto') {
    try {
      return await startWasm(tf, requested, notes);
    } catch (error) {
      const reason = `the wasm backend did not initialise (${messageOf(error)})`;
      if (requested === 'wasm') throw unavailable('wasm', `${reason}: reinstall @tensorflow/tfjs-backend-wasm (same version as @tensorflow/tfjs), or choose backend "cpu" or "auto"`);
      notes.push(reason);
    }
  }
  if (!(await tf.setBackend('cpu'))) throw unavailable('cpu', 'the cpu backend of @tensorflow/tfjs did not initialise: reinstall @tensorflow/tfjs');
  await tf.ready();
  return { tf, backend: { kind: 'cpu', tfjsName: tf.getBackend(), requested, version: tf.version_core, notes } };
}

async function startNode(requested: BackendChoice, notes: string[]): Promise<Tensorflow> {
  // A variable specifier: tfjs-node is optional, so neither TypeScript nor the bundle needs it.
  const specifier = '@tensorflow/tfjs-node';
  const tf = (await import(specifier)) as TensorflowModule; // re-exports @tensorflow/tfjs, registers 'tensorflow'
  if (!(await tf.setBackend(tfjsNames.node))) throw new Error('tf.setBackend("tensorflow") returned false');
  await tf.ready();
  return { tf, backend: { kind: 'node', tfjsName: tf.getBackend(), requested, version: tf.version_core, notes } };
}

async function startWasm(tf: TensorflowModule, requested: BackendChoice, notes: string[]): Promise<Tensorflow> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const binaryFolder = wasmBinaryFolder();
  wasm.setWasmPaths(binaryFolder); // a folder on disk: emscripten reads the binary with fs
  if (!(await tf.setBackend(tfjsNames.wasm))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { tf, backend: { kind: 'wasm', tfjsName: tf.getBackend(), requested, version: tf.version_core, wasm: { simd, threads: wasm.getThreadsCount(), binaryFolder }, notes } };
}

/** The folder of the installed @tensorflow/tfjs-backend-wasm holding its .wasm binaries, with a trailing separator. */
export function wasmBinaryFolder(): string {
  const require = createRequire(import.meta.url);
  const folder = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const binary = join(folder, 'tfjs-backend-wasm.wasm');
  if (!existsSync(binary)) throw new Error(`expected ${binary} inside the installed package, found none`);
  return folder + sep;
}

function unavailable(kind: BackendKind, message: string) {
  return configError(`the TensorFlow.js "${kind}" backend is unavailable`, [{ path: ['backend'], message }]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
}
