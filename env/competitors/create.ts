/**
 * Builds a competitor's pricing strategy from its scenario config (scenarios/schema.ts,
 * `strategySchema`). Names are resolved to firm indices here, once, so no strategy looks
 * anything up on the hot path. Config that cannot be honoured (a ratio follower whose
 * target is not a firm, a best-response rival without a demand model to respond to) is
 * refused with a config error naming the field.
 */
import type { Strategy } from '../../scenarios/schema.js';
import { configError } from '../../core/errors.js';
import { BestResponseStrategy } from './best-response.js';
import { FixedStrategy } from './fixed.js';
import { MatchStrategy } from './match.js';
import { RandomWalkStrategy } from './random-walk.js';
import { RatioFollowerStrategy } from './ratio-follower.js';
import type { BestResponder, PricingStrategy } from './strategy.js';
import { TwoBoundStrategy } from './two-bound.js';
import { UndercutStrategy } from './undercut.js';

/** The name a ratio follower uses to follow our firm, which is always firm 0. */
export const focalFirmName = 'focal';

export interface CreateStrategyOptions {
  /** Firm index of a competitor by name, undefined if there is none ("focal" is firm 0 without asking). */
  readonly firmIndexByName: (name: string) => number | undefined;
  /** The demand model's best responder; required by best-response strategies only. */
  readonly bestResponder?: BestResponder | undefined;
  /** Where this strategy sits in the scenario, for error messages; default ['strategy']. */
  readonly path?: readonly (string | number)[] | undefined;
}

export function createStrategy(config: Strategy, options: CreateStrategyOptions): PricingStrategy {
  const path = options.path ?? ['strategy'];
  switch (config.kind) {
    case 'fixed':
      return new FixedStrategy({ price: config.price });
    case 'random-walk':
      return new RandomWalkStrategy({ step: config.step, min: config.min, max: config.max });
    case 'undercut':
      return new UndercutStrategy({ amount: config.amount, floorMargin: config.floorMargin });
    case 'match':
      return new MatchStrategy({ floorMargin: config.floorMargin });
    case 'two-bound':
      return new TwoBoundStrategy({ step: config.step, floor: config.floor, ceiling: config.ceiling });
    case 'best-response': {
      if (options.bestResponder === undefined) {
        throw configError('cannot build a best-response competitor', [
          {
            path: [...path, 'kind'],
            message:
              'expected a best responder from the demand model (best response needs logit demand), found none; use logit demand or another strategy kind',
          },
        ]);
      }
      return new BestResponseStrategy(options.bestResponder);
    }
    case 'ratio-follower': {
      const targetFirmIndex = config.target === focalFirmName ? 0 : options.firmIndexByName(config.target);
      if (targetFirmIndex === undefined) {
        throw configError('cannot build a ratio-follower competitor', [
          {
            path: [...path, 'target'],
            message: `expected "${focalFirmName}" or the name of a competitor, found "${config.target}"`,
          },
        ]);
      }
      return new RatioFollowerStrategy({ ratio: config.ratio, targetFirmIndex });
    }
    default: {
      const unknown: never = config;
      throw configError('cannot build a competitor strategy', [
        { path: [...path, 'kind'], message: `expected a known strategy kind, found ${JSON.stringify(unknown)}` },
      ]);
    }
  }
}
