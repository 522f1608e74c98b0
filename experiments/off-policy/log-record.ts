/**
 * The decision log: one JSON object per line (JSON Lines), one line per pricing decision,
 * written by `pricelab log` and, in the same shape, by the future serving endpoint:
 *
 *   {"scenario": "weather-sensitive-bandit-v1", "seed": "7", "day": 0,
 *    "context": {"lastPrice": 0.59, "weather:sunny": 1, ...},   features by name, as the policy saw them
 *    "action": 3, "price": 6.5,                                 ladder index and its price
 *    "propensity": 0.0154,                                      P(logging policy chose this action | context)
 *    "reward": 112.4,                                           the day's reward (the scenario's objective)
 *    "policy": "epsilon-greedy 0.2 around cost-plus:0.6"}       optional: who decided
 *
 * `seed` and `day` say where in the simulator the decision was taken (a live shop writes its
 * date and request id there); with them a simulator log can be replayed to get the truth.
 * parseDecisionLog checks every line and lists every problem with its line number (1-based).
 */
import { z } from 'zod';
import { PricelabError, type Problem } from '../../core/errors.js';

export const decisionRecordSchema = z.strictObject({
  scenario: z.string().min(1).describe('scenario id the decision was taken in'),
  seed: z.union([z.string(), z.number()]).describe('episode seed (simulator) or a request id (live)'),
  day: z.number().int().min(0).describe('day of the episode, from 0'),
  context: z.record(z.string(), z.number().refine(Number.isFinite, 'expected a finite number')).describe('observation features by name, as the policy saw them'),
  action: z.number().int().min(0).describe('index into the price ladder'),
  price: z.number().positive().describe('the price of that ladder index'),
  propensity: z.number().gt(0).max(1).describe('probability that the logging policy chose this action in this context'),
  reward: z.number().refine(Number.isFinite, 'expected a finite number').describe("the day's reward under the scenario's objective"),
  policy: z.string().optional().describe('the logging policy, for provenance'),
});

export type DecisionRecord = z.infer<typeof decisionRecordSchema>;

export interface LogExpectations {
  /** Feature names every context must carry (the scenario's observation space). */
  readonly featureNames: readonly string[];
  readonly ladder: Float64Array;
}

export function formatDecisionLog(records: readonly DecisionRecord[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + (records.length > 0 ? '\n' : '');
}

/** Parses a JSON Lines log; refuses it with every problem (line number, field, expected, found). */
export function parseDecisionLog(text: string, expectations?: LogExpectations): DecisionRecord[] {
  const problems: Problem[] = [];
  const records: DecisionRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problems.push({ path: [where], message: `expected a JSON object, found invalid JSON (${(error as Error).message})` });
      return;
    }
    const parsed = decisionRecordSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: [where, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: issue.message });
    }
    // The scenario checks run on whatever fields have the right shape, so one pass lists every problem.
    if (expectations && typeof json === 'object' && json !== null) problems.push(...scenarioProblems(json as Partial<DecisionRecord>, expectations, where));
    if (!parsed.success) return;
    const record = parsed.data;
    records.push(record);
  });
  if (problems.length > 0) throw new PricelabError('config', `the decision log has ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  if (records.length < 2) throw new PricelabError('config', 'the decision log is too short', [{ path: [], message: `expected at least 2 decisions, found ${records.length}` }]);
  return records;
}

function scenarioProblems(record: Partial<DecisionRecord>, expectations: LogExpectations, where: string): Problem[] {
  const problems: Problem[] = [];
  if (typeof record.context === 'object' && record.context !== null) {
    const missing = expectations.featureNames.filter((name) => !(name in (record.context as object)));
    if (missing.length > 0) problems.push({ path: [where, 'context'], message: `expected the features ${missing.join(', ')}, found none for them` });
  }
  if (typeof record.action === 'number' && Number.isInteger(record.action) && record.action >= 0) {
    const price = expectations.ladder[record.action];
    if (price === undefined) problems.push({ path: [where, 'action'], message: `expected a ladder index 0..${expectations.ladder.length - 1}, found ${record.action}` });
    else if (typeof record.price === 'number' && Math.abs(price - record.price) > 1e-6 * Math.max(1, price)) {
      problems.push({ path: [where, 'price'], message: `expected ${price} (the price of ladder index ${record.action}), found ${record.price}` });
    }
  }
  return problems;
}
