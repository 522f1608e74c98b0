/**
 * The bandit version of a scenario: the same customers, calendar, weather, festivals and
 * prices, with every carry-over mechanism removed (experiments/online/carry-over.ts):
 * no reference prices, no loyal-base churn, no stock limits, no returns, and rivals that
 * react to our price replaced by a fixed price (their initial price). What is left is a
 * contextual bandit: each day's reward depends on that day's context (weather, weekday,
 * season, festivals, rival prices) and our price only. This is where the daily rewards of
 * a decision log identify a policy's value, and where the off-policy estimators are
 * validated against the simulator. The id becomes `<name>-bandit-v<N>`.
 */
import type { Scenario } from '../../scenarios/schema.js';
import { validateScenario } from '../../scenarios/load.js';

export function banditScenario(scenario: Scenario): Scenario {
  const rest: Partial<Scenario> = { ...scenario };
  delete rest.inventory;
  delete rest.returns;
  const id = scenario.id.replace(/-v(\d+)$/, '-bandit-v$1');
  const demand =
    scenario.demand.kind === 'logit'
      ? { ...scenario.demand, segments: scenario.demand.segments.map((segment) => withoutCarryOver(segment)) }
      : scenario.demand;
  const competitors = scenario.competitors?.map((competitor) =>
    competitor.strategy.kind === 'fixed' || competitor.strategy.kind === 'random-walk' ? competitor : { ...competitor, strategy: { kind: 'fixed' as const, price: competitor.initialPrice } },
  );
  const objective = scenario.objective.kind === 'profit-with-churn-penalty' ? { kind: 'profit' as const } : scenario.objective;
  return validateScenario({ ...rest, id, demand, objective, ...(competitors ? { competitors } : {}) }, `${id} (bandit version of ${scenario.id})`);
}

type Segment = Extract<Scenario['demand'], { kind: 'logit' }>['segments'][number];

function withoutCarryOver(segment: Segment): Segment {
  const copy: Partial<Segment> & Pick<Segment, 'name'> = { ...segment };
  delete copy.referencePrice;
  delete copy.loyalty;
  return copy as Segment;
}
