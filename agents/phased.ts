/**
 * Phased (`phased`): a base policy prices the horizon until its last `finaleDays` days, and a
 * finale agent (a learner, e.g. DQN) prices those. Where the only structure a learner can
 * exploit sits at the end of the horizon (on steady-state-v1: the last reviews' orders that
 * arrive too late to sell, and the salvage; mid-year every deviation from the best fixed price
 * loses, docs/agents/dqn.md), a learner that must also hold the year's level spends its budget
 * and its network on the year, and the end is learned from a sliver of its data. Here the
 * finale learns only the end game, over the base's states: residual learning over a baseline
 * (Silver et al. 2018, "Residual policy learning"), split in time.
 *
 * - The finale sees the market's observation and one more feature, `finaleDaysLeft` (days left
 *   capped at finaleDays, / finaleDays): daysLeft / horizon tells 15 days left from 8 by 0.02,
 *   too little for a network.
 * - Transitions go to the agent that acted: the finale's episodes start at the phase (train
 *   them with exploring starts over the last finaleDays days and greedy lead-ins: the base
 *   prices the lead-in); a learning base's episode is cut (truncated) where the finale takes over.
 * - The export holds both agents' exports, their files prefixed `base.` and `finale.`.
 * - Sub-agents may be any kind but an oracle (they would need the true model) or another phased agent.
 */
import { z } from 'zod';
import { configError, PricelabError, type Problem } from '../core/errors.js';
import { box, type BoxSpace } from '../env/spaces.js';
import { canCheckpoint, checkpointState, type ActOptions, type Agent, type AgentCheckpoint, type AgentContext, type AgentExport, type Explanation, type Transition } from './agent.js';
import { defineAgent, type AgentDefinition, type GreedyPolicySettings } from './definition.js';

const agentSpec = z.strictObject({
  kind: z.string().describe('the agent kind'),
  config: z.unknown().optional().describe("the agent's config"),
});

const configSchema = z.strictObject({
  finaleDays: z.number().int().positive().describe("the horizon's last this many days are priced by the finale agent; the days before by the base"),
  base: agentSpec.describe('the policy before the finale (e.g. {"kind": "fixed-price", "config": {"price": 17.99}})'),
  finale: agentSpec.describe('the agent of the last finaleDays days (e.g. a dqn)'),
});

export type PhasedConfig = z.output<typeof configSchema>;
type Role = 'base' | 'finale';
type Lookup = (kind: string) => AgentDefinition;

const FINALE_FEATURE = 'finaleDaysLeft';

/** Where the phase is read from, and the finale's wider observation. */
class PhaseReader {
  readonly finaleSpace: BoxSpace;
  private readonly daysLeft: number;
  private readonly horizon: number;
  /** Features of the market's observation (the finale's has one more). */
  readonly features: number;

  constructor(
    space: BoxSpace,
    private readonly finaleDays: number,
  ) {
    this.daysLeft = space.featureNames.indexOf('daysLeft');
    if (this.daysLeft < 0) {
      throw configError('phased needs the time left in the observation', [{ path: ['config', 'finaleDays'], message: `expected a "daysLeft" feature among ${JSON.stringify(space.featureNames)}, found none` }]);
    }
    this.horizon = space.scales[this.daysLeft] ?? 1;
    if (finaleDays > this.horizon) {
      throw configError('the finale is longer than the horizon', [{ path: ['config', 'finaleDays'], message: `expected at most the horizon (${this.horizon} days), found ${finaleDays}` }]);
    }
    this.features = space.featureNames.length;
    this.finaleSpace = box([...space.featureNames, FINALE_FEATURE], [...space.low, 0], [...space.high, 1], [...space.scales, finaleDays]);
  }

  /** Days left (today included) in row `row` of a row-major batch. */
  private daysLeftOf(observations: Float32Array, row: number): number {
    return Math.round((observations[row * this.features + this.daysLeft] ?? 0) * this.horizon);
  }

  inFinale(observations: Float32Array, row = 0): boolean {
    return this.daysLeftOf(observations, row) <= this.finaleDays;
  }

  /** The finale's observations of the given rows: each row and its finaleDaysLeft. */
  widen(observations: Float32Array, rows: readonly number[]): Float32Array {
    const width = this.features + 1;
    const wide = new Float32Array(rows.length * width);
    rows.forEach((row, index) => {
      wide.set(observations.subarray(row * this.features, (row + 1) * this.features), index * width);
      wide[index * width + this.features] = Math.min(this.finaleDays, this.daysLeftOf(observations, row)) / this.finaleDays;
    });
    return wide;
  }
}

export class PhasedAgent implements Agent {
  readonly kind = 'phased';
  readonly capabilities: Agent['capabilities'];
  private readonly phase: PhaseReader;

  constructor(
    private readonly config: PhasedConfig,
    phase: PhaseReader,
    readonly base: Agent,
    readonly finale: Agent,
  ) {
    this.phase = phase;
    this.capabilities = { learns: base.capabilities.learns || finale.capabilities.learns };
  }

  act(observation: Float32Array, options: ActOptions): number {
    return this.phase.inFinale(observation) ? this.finale.act(this.phase.widen(observation, [0]), options) : this.base.act(observation, options);
  }

  /**
   * Each agent acts on every row when any row is its own, and only its own rows' answers are
   * kept: a market keeps its row, so per-row state (DQN's held exploring prices) stays with it.
   * In a vector env's lockstep every market is on the same day, so all rows or none are the finale's.
   */
  actBatch(observations: Float32Array, count: number, options: ActOptions, out: Int32Array): void {
    const inFinale = Array.from({ length: count }, (_, row) => this.phase.inFinale(observations, row));
    const finaleRows = inFinale.filter(Boolean).length;
    const baseActions = finaleRows < count ? actAll(this.base, observations, count, this.phase.features, options) : undefined;
    const finaleActions = finaleRows > 0 ? actAll(this.finale, this.phase.widen(observations, Array.from({ length: count }, (_, row) => row)), count, this.phase.features + 1, options) : undefined;
    for (let row = 0; row < count; row++) out[row] = (inFinale[row] ? finaleActions?.[row] : baseActions?.[row]) ?? 0;
  }

  observe(transition: Transition): void {
    if (this.phase.inFinale(transition.observation)) {
      this.finale.observe({ ...transition, observation: this.phase.widen(transition.observation, [0]), nextObservation: this.phase.widen(transition.nextObservation, [0]) });
    } else {
      // The base's episode ends where the finale takes over: what comes after is not its to value.
      const handsOver = this.phase.inFinale(transition.nextObservation) && !transition.terminated;
      this.base.observe(handsOver ? { ...transition, truncated: true } : transition);
    }
  }

  explain(observation: Float32Array): Explanation {
    const [agent, seen] = this.phase.inFinale(observation) ? [this.finale, this.phase.widen(observation, [0])] : [this.base, observation];
    if (agent.explain) return agent.explain(seen);
    const spec = this.phase.inFinale(observation) ? this.config.finale : this.config.base;
    return { kind: 'rule', description: `${spec.kind} ${JSON.stringify(spec.config ?? {})} (${this.phase.inFinale(observation) ? 'finale' : 'base'})`, chosen: agent.act(seen, { explore: false }) };
  }

  async export(): Promise<AgentExport> {
    const [base, finale] = await Promise.all([this.base.export(), this.finale.export()]);
    const files: Record<string, Uint8Array> = {};
    for (const [name, bytes] of Object.entries(base.files)) files[`base.${name}`] = bytes;
    for (const [name, bytes] of Object.entries(finale.files)) files[`finale.${name}`] = bytes;
    const config: PhasedConfig = { finaleDays: this.config.finaleDays, base: { kind: base.kind, config: base.config }, finale: { kind: finale.kind, config: finale.config } };
    return { kind: this.kind, config, files };
  }

  /** Both agents' checkpoints (every registered kind has the capability). */
  saveCheckpoint(): AgentCheckpoint {
    return { kind: this.kind, state: { base: checkpointable(this.base, 'base').saveCheckpoint(), finale: checkpointable(this.finale, 'finale').saveCheckpoint() } };
  }

  /** Both or neither: if the finale's checkpoint is refused, the base is put back as it was. */
  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    const state = checkpointState(checkpoint, this.kind, checkpointsSchema);
    const base = checkpointable(this.base, 'base');
    const before = base.saveCheckpoint();
    base.restoreCheckpoint(state.base);
    try {
      checkpointable(this.finale, 'finale').restoreCheckpoint(state.finale);
    } catch (error) {
      base.restoreCheckpoint(before);
      throw error;
    }
  }

  dispose(): void {
    try {
      this.base.dispose();
    } finally {
      this.finale.dispose();
    }
  }
}

/** The agent's actions for every row of a row-major batch: one batched call when it has one. */
function actAll(agent: Agent, observations: Float32Array, count: number, width: number, options: ActOptions): Int32Array {
  const actions = new Int32Array(count);
  if (agent.actBatch) agent.actBatch(observations, count, options, actions);
  else for (let row = 0; row < count; row++) actions[row] = agent.act(observations.subarray(row * width, (row + 1) * width), options);
  return actions;
}

const checkpointsSchema = z.strictObject({
  base: z.strictObject({ kind: z.string(), state: z.unknown() }),
  finale: z.strictObject({ kind: z.string(), state: z.unknown() }),
});

function checkpointable(agent: Agent, role: Role): Agent & Required<Pick<Agent, 'saveCheckpoint' | 'restoreCheckpoint'>> {
  if (!canCheckpoint(agent)) throw new PricelabError('config', `the ${role} agent (${agent.kind}) has no checkpoints`, [{ path: ['config', role, 'kind'], message: `expected a kind with checkpoints, found "${agent.kind}"` }]);
  return agent;
}

/** A sub-agent's definition and validated config; problems name the path under config.base or config.finale. */
function subAgent(lookup: Lookup, role: Role, spec: PhasedConfig['base']): { definition: AgentDefinition; config: unknown } {
  const at = (path: readonly (string | number)[], message: string): Problem => ({ path: ['config', role, ...path], message });
  let definition: AgentDefinition;
  try {
    definition = lookup(spec.kind);
  } catch (error) {
    throw configError(`the ${role} agent's kind is unknown`, [at(['kind'], error instanceof PricelabError ? (error.problems[0]?.message ?? error.message) : String(error))]);
  }
  if (definition.kind === 'phased' || definition.needsModel) {
    throw configError(`the ${role} agent cannot be a ${definition.kind} agent`, [at(['kind'], `expected a kind that needs no true model and is not itself phased, found "${definition.kind}"`)]);
  }
  const parsed = definition.configSchema.safeParse(spec.config ?? {});
  if (!parsed.success) {
    throw configError(`the ${role} agent's config is not valid`, parsed.error.issues.map((issue) => at(['config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], issue.message)));
  }
  return { definition, config: parsed.data };
}

/** A phased artifact's config, or an integrity error listing every problem. */
function artifactConfig(exported: AgentExport): PhasedConfig {
  const parsed = configSchema.safeParse(exported.config);
  if (parsed.success) return parsed.data;
  throw new PricelabError(
    'integrity',
    "the phased artifact's config is not valid",
    parsed.error.issues.map((issue) => ({ path: ['config', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message })),
  );
}

/** Runs a sub-agent's creation or restore; its errors say whose they are, their paths under the role (in an artifact, its files are prefixed with the role). */
async function withRole<T>(role: Role, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof PricelabError)) throw error;
    const firstLine = error.message.split('\n')[0] ?? error.message;
    throw new PricelabError(error.kind, `the ${role} agent: ${firstLine}`, error.problems.map((problem) => ({ ...problem, path: [role, ...problem.path] })));
  }
}

/** Only the files under `role.`, with the prefix taken off. */
function filesOf(files: AgentExport['files'], role: Role): Record<string, Uint8Array> {
  const prefix = `${role}.`;
  return Object.fromEntries(Object.entries(files).flatMap(([name, bytes]) => (name.startsWith(prefix) ? [[name.slice(prefix.length), bytes]] : [])));
}

/** A phased export with its finale's export rewritten by `rewrite` (e.g. a DQN's change margin); the base's is kept. */
export function withFinaleExport(exported: AgentExport, rewrite: (finale: AgentExport) => AgentExport): AgentExport {
  const config = artifactConfig(exported);
  const finale = rewrite({ kind: config.finale.kind, config: config.finale.config, files: filesOf(exported.files, 'finale') });
  const files: Record<string, Uint8Array> = Object.fromEntries(Object.entries(exported.files).filter(([name]) => name.startsWith('base.')));
  for (const [name, bytes] of Object.entries(finale.files)) files[`finale.${name}`] = bytes;
  return { ...exported, config: { ...config, finale: { kind: finale.kind, config: finale.config } }, files };
}

/** The finale kind's greedy-policy settings, when it has them for this config. */
function finaleGreedyPolicy(lookup: Lookup, kind: string, config: unknown): GreedyPolicySettings | undefined {
  let settings: GreedyPolicySettings | undefined;
  try {
    settings = lookup(kind).greedyPolicy;
  } catch {
    return undefined; // an unknown kind has none
  }
  return settings && settings.changeMarginMissing?.(config) === undefined ? settings : undefined;
}

/** The phased definition, given the registry's lookup (the registry lists it with every other kind). */
export function phasedDefinition(lookup: Lookup): AgentDefinition {
  const build = async (config: PhasedConfig, context: AgentContext, make: (role: Role, definition: AgentDefinition, subConfig: unknown, subContext: AgentContext) => Promise<Agent>) => {
    const phase = new PhaseReader(context.observationSpace, config.finaleDays);
    const base = subAgent(lookup, 'base', config.base);
    const finale = subAgent(lookup, 'finale', config.finale);
    // Each its own streams: the finale has the context's seed, the base the next one.
    const baseAgent = await withRole('base', () => make('base', base.definition, base.config, { ...context, seed: context.seed + 1 }));
    try {
      const finaleAgent = await withRole('finale', () => make('finale', finale.definition, finale.config, { ...context, observationSpace: phase.finaleSpace }));
      return new PhasedAgent(config, phase, baseAgent, finaleAgent);
    } catch (error) {
      baseAgent.dispose();
      throw error;
    }
  };
  return defineAgent({
    kind: 'phased',
    description: "a base policy until the horizon's last days, and a finale agent (a learner) for those",
    configSchema,
    create: (config, context) => build(config, context, async (_role, definition, subConfig, subContext) => definition.create(subConfig, subContext)),
    restore: (exported, context) => {
      const config = artifactConfig(exported);
      return build(config, context, async (role, definition, subConfig, subContext) => definition.restore({ kind: definition.kind, config: subConfig, files: filesOf(exported.files, role) }, subContext));
    },
    // The finale's greedy-policy settings are the phased agent's (the base keeps its own).
    greedyPolicy: {
      withChangeMargin: (exported, margin) =>
        withFinaleExport(exported, (finale) => {
          const settings = finaleGreedyPolicy(lookup, finale.kind, finale.config);
          if (!settings) throw configError('no change margin', [{ path: ['finale', 'kind'], message: `expected a finale with a change margin, found "${finale.kind}"` }]);
          return settings.withChangeMargin(finale, margin);
        }),
      changeMarginMissing: (config) => {
        const finale = (config as { finale?: { kind?: unknown; config?: unknown } } | null)?.finale;
        if (typeof finale?.kind !== 'string') return 'a phased agent without a finale kind';
        return finaleGreedyPolicy(lookup, finale.kind, finale.config) ? undefined : `a phased agent whose finale is "${finale.kind}"`;
      },
    },
  });
}
