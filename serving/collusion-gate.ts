/**
 * The collusion gate: refuses a policy whose measured behaviour facing learning rivals has
 * the signature of reward-punishment collusion (Calvano et al. 2020): on its steady state it
 * holds its price above its myopic best reply with a profit-gain index of at least
 * `minProfitGain`, it cuts its price after a rival's one-period price cut (punishment), and
 * play then returns to the old steady state. The evidence is what experiments/collusion.ts
 * measured (`pricelab` writes it as JSON); the gate does not take its verdicts on trust: it
 * rebuilds the scenario's market and recomputes the profit gain, the best replies, the
 * punishment and the return from the prices the evidence records, and refuses evidence
 * whose reported verdicts do not follow from them, or that is about another version.
 *
 * The gate's detail quotes the evidence (profit gain, the candidate's price on the cycle
 * and after the cut, the period of return), so a refusal is explained in the report.
 */
import { z } from 'zod';
import { buildMarketModel } from '../env/model.js';
import { collusionEvidenceFormat, ladderBestReply } from '../experiments/collusion.js';
import { profitGainAt } from '../experiments/competition.js';
import { loadScenario } from '../scenarios/load.js';

export const collusionGateSchema = z.strictObject({
  minProfitGain: z
    .number()
    .default(0.1)
    .describe("refuse only a steady state whose profit-gain index (0 at Nash, 1 at the joint monopoly) is at least this; a policy at Nash has nothing to protect"),
});
export type CollusionGateSettings = z.output<typeof collusionGateSchema>;

const profile = z.array(z.number().finite()).min(1);
const evidenceSchema = z.object({
  format: z.literal(collusionEvidenceFormat),
  scenario: z.object({ id: z.string().min(1) }),
  candidate: z.object({ name: z.string(), policySha256: z.string().optional() }),
  cycle: z.array(profile).min(1),
  profitGain: z.object({ mean: z.number(), perFirm: z.array(z.number()) }),
  excessOverBestReply: z.number(),
  impulseResponse: z.object({
    deviatingFirm: z.number().int(),
    prices: z.array(profile).min(3),
    punished: z.boolean(),
    returned: z.boolean(),
    periodsToReturn: z.number().int().positive().nullable(),
  }),
  signature: z.boolean(),
});

export interface CollusionGateResult {
  readonly gate: 'collusion';
  readonly status: 'passed' | 'failed';
  readonly passed: boolean;
  readonly detail: string;
}

const close = (first: number, second: number) => Math.abs(first - second) <= 1e-9 * Math.max(1, Math.abs(first), Math.abs(second));
const money = (value: number) => value.toFixed(3);
const key = (prices: readonly number[]) => prices.map((price) => price.toPrecision(12)).join(',');

/** Checks one collusion evidence document (JSON as read) for a candidate (its policy.json sha256, when known). */
export function checkCollusionGate(evidence: { readonly source: string; readonly json: unknown } | undefined, settings: CollusionGateSettings, candidateSha256?: string): CollusionGateResult {
  const result = (passed: boolean, detail: string): CollusionGateResult => ({ gate: 'collusion', status: passed ? 'passed' : 'failed', passed, detail });
  if (!evidence) return result(false, 'no collusion evidence given (measure the policy facing learning rivals: experiments/collusion.ts)');
  const parsed = evidenceSchema.safeParse(evidence.json);
  if (!parsed.success) return result(false, `${evidence.source}: not collusion evidence (${parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')})`);
  const found = parsed.data;
  if (candidateSha256 !== undefined && found.candidate.policySha256 !== candidateSha256) {
    return result(false, `${evidence.source} measured ${found.candidate.policySha256 === undefined ? 'a policy without a recorded hash' : `policy ${found.candidate.policySha256.slice(0, 12)}…`}, not this version (${candidateSha256.slice(0, 12)}…)`);
  }

  // Recompute every verdict from the prices recorded.
  let model;
  try {
    model = buildMarketModel(loadScenario(found.scenario.id).scenario);
  } catch (error) {
    return result(false, `${evidence.source}: its scenario ${found.scenario.id} does not load here (${(error as Error).message.split('\n')[0]})`);
  }
  const gain = profitGainAt(model, found.cycle);
  if (!gain) return result(false, `${evidence.source}: ${found.scenario.id} has no Nash and monopoly benchmarks, so no profit-gain index`);
  const cycle = found.cycle;
  const excess = cycle.reduce((total, prices, index) => total + (prices[0] ?? 0) - ladderBestReply(model, 0, cycle[(index + cycle.length - 1) % cycle.length] ?? prices), 0) / cycle.length;
  const played = found.impulseResponse.prices;
  const lowestOnCycle = Math.min(...cycle.map((prices) => prices[0] ?? 0));
  const lowestAfter = Math.min(...played.slice(2).map((prices) => prices[0] ?? 0));
  const punished = lowestAfter < lowestOnCycle - 1e-9;
  const returnAt = found.impulseResponse.periodsToReturn;
  const onCycle = new Set(cycle.map(key));
  const problems: string[] = [];
  if (!close(gain.mean, found.profitGain.mean)) problems.push(`profit gain ${found.profitGain.mean} reported, ${gain.mean} from its cycle`);
  if (!close(excess, found.excessOverBestReply)) problems.push(`excess over the best reply ${found.excessOverBestReply} reported, ${excess} from its cycle`);
  if (punished !== found.impulseResponse.punished) problems.push(`punished ${found.impulseResponse.punished} reported, ${punished} from its prices`);
  if (found.impulseResponse.returned !== (returnAt !== null)) problems.push('returned and periodsToReturn disagree');
  if (returnAt !== null && returnAt < played.length && !onCycle.has(key(played[returnAt] ?? []))) problems.push(`period ${returnAt} is reported as the return, but its prices are not on the cycle`);
  const signature = excess > 1e-9 && punished && returnAt !== null;
  if (signature !== found.signature) problems.push(`signature ${found.signature} reported, ${signature} from its prices`);
  if (problems.length > 0) return result(false, `${evidence.source}: its verdicts do not follow from its prices: ${problems.join('; ')}`);

  const cyclePrice = money(lowestOnCycle);
  const summary = `profit gain ${gain.mean.toFixed(3)} (0 Nash, 1 monopoly) over a cycle of ${cycle.length}; the candidate prices ${excess >= -5e-4 ? '+' : '-'}${money(Math.abs(excess))} over its best reply there`;
  const response = `after firm ${found.impulseResponse.deviatingFirm}'s one-period cut to ${money(played[1]?.[found.impulseResponse.deviatingFirm] ?? 0)}, the candidate's price ${punished ? `fell from ${cyclePrice} to ${money(lowestAfter)}` : `stayed at or above ${cyclePrice}`} and play ${returnAt === null ? 'did not return to the cycle' : `returned to the cycle in period ${returnAt}`} (prices ${played.slice(0, 8).map((prices) => prices.map(money).join('/')).join(' ')})`;
  if (signature && gain.mean >= settings.minProfitGain) {
    return result(false, `${evidence.source}: reward-punishment collusion: ${summary}; ${response}`);
  }
  const why = !signature ? 'no reward-punishment signature' : `the signature at a profit gain below ${settings.minProfitGain}`;
  return result(true, `${evidence.source}: ${why}: ${summary}; ${response}`);
}
