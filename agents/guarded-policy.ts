/**
 * A policy under guardrails, for evaluation: wraps any agent's greedy `act` so that the
 * price it picks passes through agents/guardrails.ts exactly as the serving endpoint would
 * pass it (yesterday's price and the rivals' prices read from the observation's named
 * features), and counts what the guardrails did: decisions, prices they moved (by rule),
 * and played prices that still broke a rule (conflicting rules).
 */
import type { Agent, ActOptions } from './agent.js';
import type { BoxSpace } from '../env/spaces.js';
import { FESTIVAL_LOOKAHEAD } from '../env/observation.js';
import { applyGuardrails, assertGuardrailsFitLadder, guardrailRules, type GuardrailRule, type Guardrails } from './guardrails.js';

export interface GuardrailTally {
  decisions: number;
  /** Decisions where some guardrail moved the policy's price. */
  adjustments: number;
  /** Played prices that broke a rule (only possible when rules conflict). */
  violations: number;
  byRule: Record<GuardrailRule, { adjusted: number; violated: number }>;
}

export const emptyTally = (): GuardrailTally => ({
  decisions: 0,
  adjustments: 0,
  violations: 0,
  byRule: Object.fromEntries(guardrailRules.map((rule) => [rule, { adjusted: 0, violated: 0 }])) as GuardrailTally['byRule'],
});

export class GuardedPolicy implements Pick<Agent, 'act'> {
  readonly tally: GuardrailTally = emptyTally();
  private readonly lastPriceIndex: number;
  private readonly lastPriceScale: number;
  private readonly rivalFeatures: { index: number; scale: number }[];
  /** The daysToEvent feature (days to the next festival event day / FESTIVAL_LOOKAHEAD), for noRaiseBeforeFestival. */
  private readonly daysToEventIndex: number;

  constructor(
    private readonly agent: Pick<Agent, 'act'>,
    private readonly rules: Guardrails,
    private readonly ladder: ArrayLike<number>,
    private readonly unitCost: number,
    space: BoxSpace,
  ) {
    assertGuardrailsFitLadder(rules, ladder, ['guardrails']);
    this.lastPriceIndex = space.featureNames.indexOf('lastPrice');
    this.lastPriceScale = space.scales[this.lastPriceIndex] ?? 1;
    this.daysToEventIndex = space.featureNames.indexOf('daysToEvent');
    this.rivalFeatures = space.featureNames.flatMap((name, index) => (name.startsWith('rivalPrice:') ? [{ index, scale: space.scales[index] ?? 1 }] : []));
  }

  act(observation: Float32Array, options: ActOptions): number {
    const proposedIndex = this.agent.act(observation, options);
    const lastPrice = this.lastPriceIndex >= 0 ? (observation[this.lastPriceIndex] ?? 0) * this.lastPriceScale : 0;
    const competitorPrices = this.rivalFeatures.map((feature) => (observation[feature.index] ?? 0) * feature.scale).filter((price) => price > 0);
    // daysToEvent is capped at FESTIVAL_LOOKAHEAD days: 1 means no festival that near.
    const daysToEvent = this.daysToEventIndex >= 0 ? (observation[this.daysToEventIndex] ?? 1) : 1;
    const daysToFestival = daysToEvent < 1 ? Math.round(daysToEvent * FESTIVAL_LOOKAHEAD) : undefined;
    const guarded = applyGuardrails(this.ladder[proposedIndex] ?? 0, this.ladder, this.rules, { lastPrice: lastPrice > 0 ? lastPrice : undefined, competitorPrices, unitCost: this.unitCost, daysToFestival });
    this.tally.decisions++;
    let adjusted = false;
    for (const effect of guarded.effects) {
      if (effect.status === 'adjusted' && effect.rule !== 'ladder') {
        this.tally.byRule[effect.rule].adjusted++;
        adjusted = true;
      }
    }
    if (guarded.ladderIndex !== proposedIndex) adjusted = true;
    if (adjusted) this.tally.adjustments++;
    if (guarded.violations.length > 0) this.tally.violations++;
    for (const rule of guarded.violations) this.tally.byRule[rule].violated++;
    return guarded.ladderIndex;
  }
}
