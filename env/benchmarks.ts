/**
 * A scenario's known answers: the Bertrand-Nash and joint-monopoly prices of its logit
 * stage game (`pricelab equilibrium`), and the exact optimal expected value of a
 * finite-stock scenario by dynamic programming (`pricelab oracle`).
 */
import type { Scenario } from '../scenarios/schema.js';
import { configError } from '../core/errors.js';
import { buildStageGame } from './model.js';
import { buildPriceLadder } from './ladder.js';
import { gallegoVanRyzinValue, solveExponentialContinuous, solveFiniteStockDp, type OracleResult } from './oracle.js';
import type { PriceProfile } from './stage-game.js';

export interface EquilibriumReport {
  nash: PriceProfile;
  monopoly: PriceProfile;
  firms: string[];
}

export function equilibriumOf(scenario: Scenario): EquilibriumReport {
  if (scenario.demand.kind !== 'logit') {
    throw configError(`${scenario.id} has no logit stage game`, [{ path: ['demand', 'kind'], message: `expected "logit", found "${scenario.demand.kind}"` }]);
  }
  const game = buildStageGame(scenario);
  return { nash: game.nash(), monopoly: game.monopoly(), firms: ['focal', ...scenario.competitors.map((rival) => rival.name)] };
}

export interface OracleReport {
  optimalValue: number;
  stock: number;
  periods: number;
  prices: number[] | 'continuous';
  /** The optimal first price with full stock. */
  firstPrice: number;
  /** J*(n, t) of the continuous-time problem, for exponential demand. */
  continuousTimeValue?: number;
}

export function oracleOf(scenario: Scenario, options: { continuous?: boolean; periods?: number; onTable?: (table: OracleResult) => void } = {}): OracleReport {
  const problems = [];
  const inventory = scenario.inventory;
  if (!inventory) problems.push({ path: ['inventory'], message: 'expected a finite stock, found unlimited stock' });
  else if (inventory.replenishment.kind !== 'none') problems.push({ path: ['inventory', 'replenishment', 'kind'], message: `expected "none" (the oracle solves finite stock without replenishment), found "${inventory.replenishment.kind}"` });
  if (scenario.demand.kind === 'logit') problems.push({ path: ['demand', 'kind'], message: 'expected single-firm demand (exponential, linear or constant-elasticity), found "logit"' });
  if (scenario.returns) problems.push({ path: ['returns'], message: 'expected no returns model' });
  if (scenario.curves.seasonality !== undefined || scenario.curves.dayOfWeek !== undefined || scenario.curves.demandMultiplier !== undefined || scenario.festivals.length > 0) {
    problems.push({ path: ['curves'], message: 'expected time-invariant demand (no seasonality, weekday, multiplier curves or festivals)' });
  }
  const demand = scenario.demand;
  if (demand.kind !== 'logit' && demand.kind !== 'exponential' && demand.noise === 'none') problems.push({ path: ['demand', 'noise'], message: 'expected "poisson" (whole units), found "none"' });
  if (problems.length > 0 || !inventory || demand.kind === 'logit') throw configError(`${scenario.id} is not a finite-stock scenario the oracle can solve`, problems);

  const stock = Math.round(inventory.initialStock);
  // --periods refines the time grid of the same problem: the horizon stays fixed, and each
  // period's expected demand shrinks by the same factor as its length.
  const periods = options.periods ?? scenario.horizonDays;
  // The DP's state space is (periods + 1) x (stock + 1): bounded, so a careless stock is refused, not allocated.
  if ((periods + 1) * (stock + 1) > oracleStateLimit) {
    throw configError(`${scenario.id} is too large for the oracle`, [
      { path: ['inventory', 'initialStock'], message: `expected (periods + 1) x (initialStock + 1) of at most ${oracleStateLimit} states, found ${periods + 1} x ${stock + 1}; lower the stock or the periods` },
    ]);
  }
  const periodScale = scenario.horizonDays / periods;
  const expectedUnits = (price: number): number => {
    switch (demand.kind) {
      case 'exponential':
        return demand.scale * demand.periodLength * periodScale * Math.exp(-demand.sensitivity * price);
      case 'linear':
        return Math.max(0, demand.intercept - demand.slope * price) * periodScale;
      case 'constant-elasticity':
        return demand.scale * Math.pow(price, demand.elasticity) * periodScale;
    }
  };
  const continuousTimeValue =
    demand.kind === 'exponential' ? gallegoVanRyzinValue(demand.scale, demand.sensitivity, stock, demand.periodLength * scenario.horizonDays) : undefined;
  if (atMostOneInfeasible(demand, periodScale)) {
    throw configError(`${periods} periods are too few for at most one arrival per period`, [{ path: ['periods'], message: 'expected enough periods for a sale probability of at most 1 per period' }]);
  }
  if (options.continuous) {
    if (demand.kind !== 'exponential' || demand.arrivals !== 'at-most-one' || scenario.unitCost !== 0 || inventory.holdingCost !== 0 || inventory.salvageValue !== 0) {
      throw configError('--continuous solves exponential demand with at most one arrival per period and no costs', [
        { path: ['demand'], message: `expected exponential demand with arrivals "at-most-one", unitCost, holdingCost and salvageValue 0; found ${demand.kind}` },
      ]);
    }
    const result = solveExponentialContinuous({ scale: demand.scale, sensitivity: demand.sensitivity, periodLength: demand.periodLength * periodScale, stock, periods });
    return { optimalValue: result.optimalValue, stock, periods, prices: 'continuous', firstPrice: result.pricePolicy[0]?.[stock] ?? Number.NaN, ...(continuousTimeValue === undefined ? {} : { continuousTimeValue }) };
  }
  const { result, ladder } = ladderDp(scenario, inventory, expectedUnits, stock, periods);
  options.onTable?.(result);
  return { optimalValue: result.optimalValue, stock, periods, prices: ladder, firstPrice: result.pricePolicy[0]?.[stock] ?? Number.NaN, ...(continuousTimeValue === undefined ? {} : { continuousTimeValue }) };
}

/** The largest DP state space the oracle solves: (periods + 1) x (stock + 1). */
export const oracleStateLimit = 1e8;

/** The DP over the scenario's own ladder and horizon: value table and optimal ladder index per (period, stock). */
export function oracleTable(scenario: Scenario): OracleResult {
  let table: OracleResult | undefined;
  oracleOf(scenario, { onTable: (result) => (table = result) });
  return table!;
}

function ladderDp(
  scenario: Scenario,
  inventory: NonNullable<Scenario['inventory']>,
  expectedUnits: (price: number) => number,
  stock: number,
  periods: number,
): { result: OracleResult; ladder: number[] } {
  const demand = scenario.demand;
  const ladder = Array.from(buildPriceLadder(scenario.priceLadder, undefined));
  const atMostOne = demand.kind === 'exponential' && demand.arrivals === 'at-most-one';
  const result = solveFiniteStockDp({
    stock,
    periods,
    prices: ladder,
    unitCost: scenario.unitCost,
    holdingCost: inventory.holdingCost,
    salvageValue: inventory.salvageValue,
    unitsDemandedPmf(price, out) {
      const mean = expectedUnits(price);
      if (atMostOne) {
        out[0] = 1 - Math.min(1, mean);
        if (out.length === 1) {
          out[0] = 1;
          return 1;
        }
        out[1] = Math.min(1, mean);
        return 2;
      }
      // Poisson(mean), with the tail P(demand >= stock) folded into the last cell.
      let mass = Math.exp(-mean);
      let cumulative = 0;
      for (let units = 0; units < out.length - 1; units++) {
        out[units] = mass;
        cumulative += mass;
        mass *= mean / (units + 1);
      }
      out[out.length - 1] = Math.max(0, 1 - cumulative);
      return out.length;
    },
  });
  return { result, ladder };
}

function atMostOneInfeasible(demand: Scenario['demand'], periodScale: number): boolean {
  return demand.kind === 'exponential' && demand.arrivals === 'at-most-one' && demand.scale * demand.periodLength * periodScale > 1;
}
