/**
 * The agent shell the classic bandits (epsilon-greedy, UCB1, Thompson sampling) share around
 * their arm statistics (agents/bandit-statistics.ts). One optional base class, one level
 * deep (style.md, habit 2): a kind extends it and writes only its exploring rule.
 *
 *   act(observation, {explore})  exploring: the kind's rule (`exploringArm`); greedy: the
 *                                best mean reward in memory, ties to the lowest index, arm 0
 *                                before any reward. The market state is ignored.
 *   observe(transition)          records the step's reward for the arm played
 *   explain()                    every arm's plays and mean reward, and the greedy arm
 *   export()                     {kind, config, files: {'bandit.json': the arm statistics}}
 *   saveCheckpoint()             the arm statistics and, for a kind that draws random
 *   restoreCheckpoint(state)     numbers, its exploration stream's state (UCB1 draws none:
 *                                its statistics are its whole state)
 *
 * `armBanditDefinition` makes the kind's definition: create, and restore from an export
 * (config parsed, bandit.json read and checked against the ladder and the configured memory;
 * a restored agent restarts its exploration stream from the new context's seed).
 *
 * LinUCB is not one of them: its state is a ridge regression per arm, not arm statistics;
 * it shares the config parts, the transition check and bandit.json reading instead.
 */
import { z } from 'zod';
import type { RandomStream } from '../core/random.js';
import type { ActOptions, Agent, AgentCheckpoint, AgentContext, AgentExport, Explanation, Transition } from './agent.js';
import { checkpointState, randomStateSchema } from './agent.js';
import { ArmStatistics, armStatisticsJsonSchema, banditFileName, classicBanditFile, parseConfig, readClassicBanditFile, type NonStationary } from './bandit-statistics.js';
import { defineAgent, type AgentDefinition } from './definition.js';

/** What every classic bandit's config holds: the memory of its arm statistics. */
export interface ArmBanditConfig {
  readonly nonStationary: NonStationary;
}

const statisticsCheckpointSchema = z.strictObject({ statistics: armStatisticsJsonSchema });
const statisticsAndStreamCheckpointSchema = z.strictObject({ statistics: armStatisticsJsonSchema, random: randomStateSchema });

export abstract class ArmBandit<Config extends ArmBanditConfig, Random extends RandomStream | undefined = undefined> implements Agent {
  readonly kind: string;
  readonly capabilities = { learns: true } as const;
  readonly config: Config;
  readonly statistics: ArmStatistics;
  /** The 'exploration' stream of the context's seed, for kinds that draw; undefined for those that do not. */
  protected readonly random: Random;

  protected constructor(kind: string, config: Config, context: AgentContext, statistics: ArmStatistics | undefined, random: Random) {
    this.kind = kind;
    this.config = config;
    this.statistics = statistics ?? new ArmStatistics(context.actionSpace.n, config.nonStationary);
    this.random = random;
  }

  /** The arm to play while training: the kind's rule. */
  protected abstract exploringArm(): number;

  act(_observation: Float32Array, options: ActOptions): number {
    return options.explore ? this.exploringArm() : this.statistics.greedyArm();
  }

  explain(): Explanation {
    return this.statistics.explain();
  }

  observe(transition: Transition): void {
    this.statistics.record(transition.action, transition.reward);
  }

  export(): AgentExport {
    return { kind: this.kind, config: this.config, files: { [banditFileName]: classicBanditFile(this.kind, this.statistics) } };
  }

  saveCheckpoint(): AgentCheckpoint {
    const statistics = this.statistics.toJSON();
    return { kind: this.kind, state: this.random ? { statistics, random: this.random.saveState() } : { statistics } };
  }

  restoreCheckpoint(checkpoint: AgentCheckpoint): void {
    if (this.random) {
      const state = checkpointState(checkpoint, this.kind, statisticsAndStreamCheckpointSchema);
      this.statistics.restore(state.statistics);
      this.random.restoreState(state.random);
    } else this.statistics.restore(checkpointState(checkpoint, this.kind, statisticsCheckpointSchema).statistics);
  }

  dispose(): void {}
}

/** A classic bandit's definition: `create` makes the agent, with the statistics read from an export when restoring. */
export function armBanditDefinition<Config extends ArmBanditConfig>(definition: {
  readonly kind: string;
  readonly description: string;
  readonly configSchema: z.ZodType<Config>;
  create(config: Config, context: AgentContext, statistics?: ArmStatistics): Agent;
}): AgentDefinition {
  const { kind, description, configSchema, create } = definition;
  return defineAgent({
    kind,
    description,
    configSchema,
    create: (config, context) => create(config, context),
    restore: (exported, context) => {
      const config = parseConfig(configSchema, exported.config, kind);
      return create(config, context, readClassicBanditFile(exported, kind, context.actionSpace.n, config.nonStationary));
    },
  });
}
