/**
 * DQN's artifact: what `export` writes and `restore` reads (agents/dqn.ts).
 *
 * Files: 'model.json' + 'weights.bin', the TF.js Layers format of the plain MLP the agent
 * acts with (a tf.sequential of dense layers named hidden_1.., q_values; a dueling head is
 * exported folded), so tf.loadLayersModel gives the same greedy actions; and 'dqn.json'
 * (format, sizes, config, counters, exploration rate). A restored agent acts exactly like
 * the exported one, bit for bit; its optimizer state and replay buffer start empty.
 *
 * Artifacts written before the retired settings went (expectile, explorationHold,
 * explorationHoldExponent, stockPotentialDays: agents/dqn-config.ts) still load: their
 * dqn.json config is read without them, whatever their values.
 *
 * Reading checks, as errors that name the field: the config (a config error), the market's
 * feature and price counts (a config error listing both), the weight shapes against the
 * config (an integrity error), and the weights file the manifest lists.
 */
import type * as Tf from '@tensorflow/tfjs';
import { PricelabError, configError } from '../core/errors.js';
import type { AgentContext, AgentExport } from './agent.js';
import { jsonFile, readJsonFile } from './agent.js';
import { dqnConfigSchema, withoutRetiredSettings, type DqnConfig } from './dqn-config.js';
import { networkLayout, type NetworkLayout } from './dqn-network.js';
import { loadTensorflow, type BackendInfo, type TensorflowModule } from './tf-backend.js';

/** Counters exported in dqn.json and restored with the agent. */
export interface DqnCounters {
  /** observe() calls: environment steps seen. */
  steps: number;
  /** Gradient updates made. */
  updates: number;
  /** Target-network syncs made. */
  targetSyncs: number;
}

interface DqnStateFile {
  format: 'pricelab-dqn';
  formatVersion: 1;
  featureCount: number;
  actionCount: number;
  config: DqnConfig;
  counters: DqnCounters;
  explorationRate: number;
}

/** The tf.sequential equivalent of the network: dense layers named hidden_1.., q_values. */
export function buildLayersModel(tf: TensorflowModule, layout: NetworkLayout): Tf.Sequential {
  const last = layout.policyUnits.length - 1;
  return tf.sequential({
    name: 'pricelab_dqn',
    layers: layout.policyUnits.map((units, index) =>
      tf.layers.dense({
        units,
        activation: index < last ? 'relu' : 'linear',
        name: index < last ? `hidden_${index + 1}` : 'q_values',
        kernelInitializer: 'zeros', // overwritten by setWeights: no random numbers spent here
        ...(index === 0 ? { inputShape: [layout.featureCount] } : {}),
      }),
    ),
  });
}

/** model.json (Layers topology + weights manifest) and weights.bin for the MLP `weights`. */
export async function toLayersFormat(tf: TensorflowModule, layout: NetworkLayout, weights: readonly Tf.Tensor[]): Promise<{ modelJson: Tf.io.ModelJSON; weightData: Uint8Array }> {
  const model = buildLayersModel(tf, layout);
  try {
    model.setWeights([...weights]);
    let saved: Tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    if (!saved?.modelTopology || !saved.weightSpecs || !saved.weightData) throw new PricelabError('integrity', 'TensorFlow.js saved no topology or weights for the DQN model');
    const modelJson: Tf.io.ModelJSON = {
      format: 'layers-model',
      generatedBy: saved.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
    };
    return { modelJson, weightData: new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData)) };
  } finally {
    model.dispose();
  }
}

/** What a DQN agent exports: the acting network's weights in the Layers format, and dqn.json. */
export async function dqnExport(
  tf: TensorflowModule,
  layout: NetworkLayout,
  actingWeights: readonly Tf.Tensor[],
  state: { readonly config: DqnConfig; readonly counters: DqnCounters; readonly explorationRate: number },
): Promise<AgentExport> {
  const { modelJson, weightData } = await toLayersFormat(tf, layout, actingWeights);
  const file: DqnStateFile = {
    format: 'pricelab-dqn',
    formatVersion: 1,
    featureCount: layout.featureCount,
    actionCount: layout.actionCount,
    config: state.config,
    counters: { ...state.counters },
    explorationRate: state.explorationRate,
  };
  return { kind: 'dqn', config: state.config, files: { 'model.json': jsonFile(modelJson), 'weights.bin': weightData, 'dqn.json': jsonFile(file) } };
}

/** Model artifacts for tf.loadLayersModel(tf.io.fromMemory(...)) from the exported files. */
export function layersArtifactsOf(files: Readonly<Record<string, Uint8Array>>): Tf.io.ModelArtifacts {
  const modelJson = readJsonFile<Tf.io.ModelJSON>(files['model.json'], 'model.json');
  const bytes = files['weights.bin'];
  if (!bytes) throw new PricelabError('integrity', 'expected the weights file "weights.bin" in the DQN artifact, found none');
  const paths = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths);
  if (paths.length !== 1 || paths[0] !== 'weights.bin') throw new PricelabError('integrity', `expected model.json to list one weights file, "weights.bin", found ${JSON.stringify(paths)}`);
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs: (modelJson.weightsManifest ?? []).flatMap((group) => group.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}

/**
 * The same export with another change margin: the margin shapes only the greedy choice, never
 * the weights, so one trained network can be tried at several (chosen on validation seeds:
 * experiments/margin-selection.ts). A config error for a margin below 0.
 */
export function withChangeMargin(exported: AgentExport, margin: number): AgentExport {
  if (!(margin >= 0) || !Number.isFinite(margin)) throw configError('bad change margin', [{ path: ['changeMargin'], message: `expected a finite number of 0 or more (reward units), found ${margin}` }]);
  const state = readJsonFile<DqnStateFile>(exported.files['dqn.json'], 'dqn.json');
  const config = { ...state.config, changeMargin: margin };
  return { ...exported, config, files: { ...exported.files, 'dqn.json': jsonFile({ ...state, config }) } };
}

/** What an artifact holds, read and checked: the agent is built from it (agents/dqn.ts's restoreDqn). */
export interface ReadDqnArtifact {
  readonly tf: TensorflowModule;
  readonly backend: BackendInfo;
  readonly config: DqnConfig;
  /** The Layers model's weights: the policy, bit for bit. Valid only inside the callback. */
  readonly weights: readonly Tf.Tensor[];
  readonly counters: DqnCounters;
}

/**
 * Reads a DQN export and hands what it holds to `build` while the loaded model's weights
 * are alive (they are freed when `build` returns: copy what must outlive it).
 */
export async function withDqnArtifact<T>(exported: AgentExport, context: AgentContext, build: (artifact: ReadDqnArtifact) => T): Promise<T> {
  const state = readJsonFile<DqnStateFile>(exported.files['dqn.json'], 'dqn.json');
  // Settings removed since (retiredDqnSettings) are dropped whatever their values: they shaped training only, and the
  // weights are the policy, so an old artifact prices exactly as before; trained further, it learns without them.
  const parsed = dqnConfigSchema.safeParse(withoutRetiredSettings(state.config ?? exported.config));
  if (!parsed.success) {
    throw configError('the DQN artifact holds an invalid config', parsed.error.issues.map((issue) => ({ path: ['config', ...issue.path.map(String)], message: issue.message })));
  }
  const config = parsed.data;
  const featureCount = context.observationSpace.shape[0];
  const problems = [];
  if (state.featureCount !== featureCount) problems.push({ path: ['featureCount'], message: `expected ${featureCount} observation features (this market's), found ${state.featureCount}` });
  if (state.actionCount !== context.actionSpace.n) problems.push({ path: ['actionCount'], message: `expected ${context.actionSpace.n} prices (this market's ladder), found ${state.actionCount}` });
  if (problems.length > 0) throw configError('the DQN artifact does not fit this market', problems);

  const { tf, backend } = await loadTensorflow(config.backend);
  const model = await tf.loadLayersModel(tf.io.fromMemory(layersArtifactsOf(exported.files)));
  try {
    const layout = networkLayout(featureCount, context.actionSpace.n, config.hiddenLayers, config.dueling);
    const weights = model.getWeights();
    const expected = layout.policyUnits.flatMap((units, index) => [[index === 0 ? featureCount : layout.policyUnits[index - 1]!, units], [units]]);
    const shapesFound = weights.map((weight) => weight.shape);
    if (JSON.stringify(shapesFound) !== JSON.stringify(expected)) {
      throw new PricelabError('integrity', 'the DQN artifact does not match its config', [{ path: ['model.json'], message: `expected weight shapes ${JSON.stringify(expected)}, found ${JSON.stringify(shapesFound)}` }]);
    }
    return build({ tf, backend, config, weights, counters: state.counters });
  } finally {
    model.dispose();
  }
}
