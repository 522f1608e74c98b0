/**
 * Short policy specs for the command line: `fixed:19.99`, `cost-plus:0.3`, `match`,
 * `undercut:0.5`, `festival:0.15`, `markdown`, `myopic-oracle`, `dp-optimal`, `index:3`,
 * `historical:sales.csv[#map.json]`, turned into an agent kind and its config. A historical
 * spec names a file, which a command reads before parsing (calibration/historical.ts,
 * asynchronously) and hands over in `facts.histories`, keyed by the spec.
 */
import { configError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { historicalKind, type HistoricalConfig } from './historical.js';

export const policySpecs = ['fixed:<price>', 'cost-plus:<markup>', 'list', 'match[:<floorMargin>]', 'undercut:<amount>', 'festival:<discount>', 'markdown', 'myopic-oracle', 'dp-optimal', 'index:<ladderIndex>', 'historical:<sales file>[#<map.json>]'] as const;

/** The names before the colon. */
const policyNames = policySpecs.map((spec) => spec.split(/[:[]/, 1)[0] ?? spec);

export function parsePolicySpec(
  spec: string,
  facts: { listPrice: number; ladder: Float64Array; histories?: ReadonlyMap<string, HistoricalConfig> },
): { kind: string; config: Record<string, unknown> } {
  const [name = '', parameterText] = spec.split(':', 2);
  const parameter = parameterText === undefined ? undefined : Number(parameterText);
  const refuse = (expected: string, why = '') => configError(`cannot use policy "${spec}"${why}`, [{ path: ['policy'], message: `expected ${expected}, found "${spec}"` }]);
  /** The spec's number, which must satisfy `check`; `rule` says how (e.g. "above 0"). */
  const need = (what: string, check: (value: number) => boolean, rule: string): number => {
    if (parameter === undefined || parameterText === '') throw refuse(`${name}:<${what}> with the ${what} ${rule}`, `: the ${what} is missing`);
    if (!Number.isFinite(parameter)) throw refuse(`${name}:<${what}> with the ${what} ${rule}`, `: the ${what} must be a number`);
    if (!check(parameter)) throw refuse(`${name}:<${what}> with the ${what} ${rule}`, `: the ${what} must be ${rule}`);
    return parameter;
  };
  switch (name) {
    case 'fixed':
      return { kind: 'fixed-price', config: { price: need('price', (value) => value > 0, 'positive (above 0)') } };
    case 'list':
      return { kind: 'fixed-price', config: { price: facts.listPrice } };
    case 'cost-plus':
      return { kind: 'cost-plus', config: { markup: need('markup', (value) => value > -1, 'above -1') } };
    case 'match':
      return { kind: 'competitor-follower', config: { mode: 'match', ...(parameter === undefined ? {} : { floorMargin: need('floorMargin', (value) => value >= 0, '0 or more') }) } };
    case 'undercut':
      return { kind: 'competitor-follower', config: { mode: 'undercut', amount: need('amount', (value) => value > 0, 'above 0') } };
    case 'festival':
      return { kind: 'festival-rule', config: { discount: need('discount', (value) => value >= 0 && value < 0.9, 'from 0 up to (not including) 0.9') } };
    case 'index': {
      const index = need('ladderIndex', (value) => Number.isInteger(value) && value >= 0 && value < facts.ladder.length, `a whole number from 0 to ${facts.ladder.length - 1}`);
      return { kind: 'fixed-price', config: { price: facts.ladder[index] } };
    }
    case 'markdown':
      return { kind: 'inventory-markdown', config: {} };
    case 'historical': {
      if (parameterText === undefined || parameterText === '') throw refuse('historical:<sales file>[#<map.json>]', ': the sales file is missing');
      const history = facts.histories?.get(spec);
      if (history === undefined) throw refuse('a command that reads historical:<sales file> (pricelab compare, evaluate, simulate, the dashboard)', ': this command does not read sales files');
      return { kind: historicalKind, config: history };
    }
    case 'myopic-oracle':
    case 'dp-optimal':
      return { kind: name, config: {} };
    default:
      throw refuse(`one of ${policySpecs.join(', ')}`, `: unknown policy "${name}"${didYouMean(name, policyNames)}`);
  }
}
