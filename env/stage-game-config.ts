/**
 * The configuration of the logit stage game (env/stage-game.ts): firms (quality, unit
 * cost), customer segments (weight, price sensitivity, logit scale) and the outside
 * option, with the check that lists every problem with its path; and a price profile, the
 * answer of its solvers.
 */
import type { Problem } from '../core/errors.js';

export interface StageGameFirm {
  /** a_i: the quality (mean utility at price 0), utility units. */
  quality: number;
  /** c_i: the unit cost, currency per unit. */
  unitCost: number;
}

export interface StageGameSegment {
  /** lambda_s: customers of this segment per period (the segment's share of demand). */
  weight: number;
  /** b_s: utility lost per currency unit of price; must be positive. */
  priceSensitivity: number;
  /** mu_s: the logit scale (horizontal differentiation), utility units; must be positive. */
  scale: number;
}

export interface StageGameConfig {
  firms: StageGameFirm[];
  segments: StageGameSegment[];
  /** a_0: the utility of buying nothing, utility units. */
  outsideUtility: number;
}

export interface PriceProfile {
  /** One price per firm, in the order of the config's firms. */
  prices: number[];
  /** Each firm's profit per period at those prices. */
  profits: number[];
}

/** Every problem with a stage game config, each with its path. */
export function validateStageGameConfig(config: StageGameConfig): Problem[] {
  const problems: Problem[] = [];
  const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  if (!Array.isArray(config.firms) || config.firms.length === 0) {
    problems.push({ path: ['firms'], message: 'expected at least one firm, found none' });
  } else {
    config.firms.forEach((firm, index) => {
      if (!finite(firm.quality)) problems.push({ path: ['firms', index, 'quality'], message: `expected a finite number, found ${String(firm.quality)}` });
      if (!finite(firm.unitCost) || firm.unitCost < 0) {
        problems.push({ path: ['firms', index, 'unitCost'], message: `expected a finite cost >= 0, found ${String(firm.unitCost)}` });
      }
    });
  }
  if (!Array.isArray(config.segments) || config.segments.length === 0) {
    problems.push({ path: ['segments'], message: 'expected at least one customer segment, found none' });
  } else {
    config.segments.forEach((segment, index) => {
      if (!finite(segment.weight) || segment.weight <= 0) {
        problems.push({ path: ['segments', index, 'weight'], message: `expected customers per period > 0, found ${String(segment.weight)}` });
      }
      if (!finite(segment.priceSensitivity) || segment.priceSensitivity <= 0) {
        problems.push({
          path: ['segments', index, 'priceSensitivity'],
          message: `expected a price sensitivity > 0 (utility lost per currency unit), found ${String(segment.priceSensitivity)}`,
        });
      }
      if (!finite(segment.scale) || segment.scale <= 0) {
        problems.push({ path: ['segments', index, 'scale'], message: `expected a logit scale > 0, found ${String(segment.scale)}` });
      }
    });
  }
  if (!finite(config.outsideUtility)) {
    problems.push({ path: ['outsideUtility'], message: `expected a finite number, found ${String(config.outsideUtility)}` });
  }
  return problems;
}
