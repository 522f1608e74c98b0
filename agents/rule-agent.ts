/**
 * The one optional helper for rule agents: a rule is a pure choice from the observation
 * (plus, for some, a little memory within an episode). It never learns; its export is its
 * config alone, and its checkpoint is empty: at an episode boundary it has nothing to keep.
 * Also the readers every rule needs: prices back from the scaled observation, by name.
 */
import { configError } from '../core/errors.js';
import type { Agent, AgentContext } from './agent.js';
import { checkpointState } from './agent.js';
import { z } from 'zod';

export function ruleAgent(kind: string, config: unknown, choose: (observation: Float32Array) => number): Agent {
  return {
    kind,
    capabilities: { learns: false },
    act: (observation) => choose(observation),
    observe: () => undefined,
    export: () => ({ kind, config, files: {} }),
    dispose: () => undefined,
    saveCheckpoint: () => ({ kind, state: null }),
    restoreCheckpoint: (checkpoint) => void checkpointState(checkpoint, kind, z.null()),
  };
}

/** The ladder index whose price is nearest to `price` (the lower one on ties). */
export function nearestIndex(ladder: Float64Array, price: number): number {
  let best = 0;
  for (let index = 1; index < ladder.length; index++) {
    if (Math.abs((ladder[index] ?? 0) - price) < Math.abs((ladder[best] ?? 0) - price) - 1e-12) best = index;
  }
  return best;
}

/** Reads raw (unscaled) feature values from an observation by name. */
export class FeatureReader {
  private readonly context: AgentContext;

  constructor(context: AgentContext) {
    this.context = context;
  }

  has(name: string): boolean {
    return this.context.observationSpace.featureNames.includes(name);
  }

  /** Index of a feature; refuses a missing one with the list of what exists. */
  index(name: string, who: string): number {
    const index = this.context.observationSpace.featureNames.indexOf(name);
    if (index < 0) {
      throw configError(`${who} needs the observation feature "${name}"`, [
        { path: ['observation'], message: `expected a feature named "${name}", found only ${this.context.observationSpace.featureNames.join(', ')}` },
      ]);
    }
    return index;
  }

  indicesWithPrefix(prefix: string): number[] {
    return this.context.observationSpace.featureNames.flatMap((name, index) => (name.startsWith(prefix) ? [index] : []));
  }

  raw(observation: Float32Array, index: number): number {
    return (observation[index] ?? 0) * (this.context.observationSpace.scales[index] ?? 1);
  }
}

