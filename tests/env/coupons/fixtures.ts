/** Scenarios for the coupon tests: a small logit market with a coupons block. */
import { validateScenario } from '../../../scenarios/load.js';
import type { Scenario } from '../../../scenarios/schema.js';
import { buildMarketModel } from '../../../env/model.js';
import { buildCouponModel, type CouponModel } from '../../../env/coupons/coupon-model.js';

export interface SegmentInput {
  name: string;
  priceSensitivity: number;
  scale?: number;
  population: number;
  claimRate: number;
  basketUnits?: number[];
  initialStages?: { new: number; hesitant: number; repeat: number; lapsed: number };
  attributes?: Record<string, string>;
}

export function couponScenario(options: {
  segments: SegmentInput[];
  campaigns: unknown[];
  quality?: number;
  outsideUtility?: number;
  unitCost?: number;
  listPrice?: number;
  visitRate?: { new: number; hesitant: number; repeat: number; lapsed: number };
  budget?: { amount: number; periodDays: number };
  deterministic?: boolean;
  sensitiveAttributes?: string[];
  id?: string;
}): Scenario {
  const listPrice = options.listPrice ?? 10;
  return validateScenario({
    id: options.id ?? 'coupon-test-v1',
    version: 1,
    description: 'coupon test market',
    card: { models: 'a test market', purpose: 'tests' },
    startDate: '2026-01-01',
    horizonDays: 60,
    deterministic: options.deterministic ?? false,
    unitCost: options.unitCost ?? 4,
    listPrice,
    priceLadder: { kind: 'list', prices: [listPrice * 0.8, listPrice * 0.9, listPrice] },
    demand: {
      kind: 'logit',
      quality: options.quality ?? 5,
      outsideUtility: options.outsideUtility ?? 0,
      segments: options.segments.map((segment) => ({ name: segment.name, arrivalRate: 10, priceSensitivity: segment.priceSensitivity, scale: segment.scale ?? 1 })),
    },
    coupons: {
      customers: Object.fromEntries(
        options.segments.map((segment) => [
          segment.name,
          {
            population: segment.population,
            claimRate: segment.claimRate,
            ...(segment.basketUnits ? { basketUnits: segment.basketUnits } : {}),
            ...(segment.initialStages ? { initialStages: segment.initialStages } : {}),
            ...(segment.attributes ? { attributes: segment.attributes } : {}),
          },
        ]),
      ),
      ...(options.visitRate ? { visitRate: options.visitRate } : {}),
      campaigns: options.campaigns,
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.sensitiveAttributes ? { sensitiveAttributes: options.sensitiveAttributes } : {}),
    },
  });
}

export function couponModelOf(scenario: Scenario): CouponModel {
  const market = buildMarketModel(scenario);
  return buildCouponModel(scenario, market.segments, Math.max(...market.ladder));
}
