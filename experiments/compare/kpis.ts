/**
 * The KPIs a comparison reports, each with the direction that is better for the shop.
 * They are the episode KPIs of env/kpis.ts (EpisodeKpis), minus `days` (the same for every
 * arm). A KPI whose direction is 'none' (average price, price index) describes a policy
 * but is not better or worse by itself: it gets means and intervals, no verdict.
 *
 * KPIs that are null for a scenario (inventory turnover with unlimited stock, price index
 * without rivals, profit gain without Nash/monopoly benchmarks) are left out of that
 * scenario's comparison.
 *
 * A coupon scenario (a `coupons` block) is compared in the coupon market
 * (env/coupons/coupon-env.ts), whose episodes also report the coupon KPIs of
 * env/coupons/coupon-kpis.ts: `kpiNamesFor` lists what such a comparison reports (the price
 * market's terms the coupon market does not have, returns, stock, rivals, are left out).
 */
import type { EpisodeKpis } from '../../env/kpis.js';
import type { CouponKpis } from '../../env/coupons/coupon-kpis.js';
import type { Scenario } from '../../scenarios/schema.js';

/** The coupon KPIs a comparison analyses (env/coupons/coupon-kpis.ts). */
export type CouponKpiName = keyof Pick<CouponKpis, 'couponCost' | 'redemptionRate' | 'cannibalisationRate' | 'incrementalUnits' | 'incrementalUnitsPerCoupon' | 'costPerIncrementalUnit'>;

export type KpiName = Exclude<keyof EpisodeKpis, 'days'> | CouponKpiName;

export type KpiDirection = 'higher' | 'lower' | 'none';

export interface KpiDefinition {
  readonly name: KpiName;
  /** Which way is better; 'none' for descriptive KPIs (no test, no verdict). */
  readonly direction: KpiDirection;
  readonly label: string;
}

export const kpiDefinitions: readonly KpiDefinition[] = [
  { name: 'totalReward', direction: 'higher', label: 'total reward (scenario objective)' },
  { name: 'profit', direction: 'higher', label: 'profit' },
  { name: 'gmv', direction: 'higher', label: 'gross merchandise value' },
  { name: 'netRevenue', direction: 'higher', label: 'net revenue after refunds' },
  { name: 'grossProfit', direction: 'higher', label: 'gross profit' },
  { name: 'grossMarginRate', direction: 'higher', label: 'gross margin rate' },
  { name: 'units', direction: 'higher', label: 'units sold' },
  { name: 'refunds', direction: 'lower', label: 'refunds' },
  { name: 'unitsReturned', direction: 'lower', label: 'units returned' },
  { name: 'returnRate', direction: 'lower', label: 'return rate' },
  { name: 'stockoutDays', direction: 'lower', label: 'stockout days' },
  { name: 'lostSales', direction: 'lower', label: 'lost sales (units)' },
  { name: 'inventoryTurnover', direction: 'higher', label: 'inventory turnover' },
  { name: 'priceChanges', direction: 'lower', label: 'price changes' },
  { name: 'customersLost', direction: 'lower', label: 'customers lost' },
  { name: 'profitGain', direction: 'higher', label: 'profit-gain index' },
  { name: 'averagePrice', direction: 'none', label: 'average price' },
  { name: 'priceIndex', direction: 'none', label: 'price index against rivals' },
  { name: 'couponCost', direction: 'lower', label: 'coupon cost (what coupons took off orders)' },
  { name: 'redemptionRate', direction: 'higher', label: 'coupon redemption rate (redeemed / claimed)' },
  { name: 'cannibalisationRate', direction: 'lower', label: 'cannibalisation rate (redemptions by customers who would have bought anyway)' },
  { name: 'incrementalUnits', direction: 'higher', label: 'units the coupons created' },
  { name: 'incrementalUnitsPerCoupon', direction: 'higher', label: 'incremental units per coupon redeemed' },
  { name: 'costPerIncrementalUnit', direction: 'lower', label: 'coupon cost per incremental unit' },
];

const couponKpiNames: readonly CouponKpiName[] = ['couponCost', 'redemptionRate', 'cannibalisationRate', 'incrementalUnits', 'incrementalUnitsPerCoupon', 'costPerIncrementalUnit'];

/** The KPIs of a price-market comparison: every EpisodeKpis field but days. */
export const kpiNames: readonly KpiName[] = kpiDefinitions.map((definition) => definition.name).filter((name) => !(couponKpiNames as readonly string[]).includes(name));

/** The KPIs of a coupon-market comparison: the price market's KPIs the coupon market has, then the coupon KPIs. */
export const couponMarketKpiNames: readonly KpiName[] = ['totalReward', 'profit', 'gmv', 'netRevenue', 'grossMarginRate', 'units', 'priceChanges', 'averagePrice', ...couponKpiNames];

/** The KPIs a comparison on `scenario` reports: the coupon market's on a coupon scenario. */
export function kpiNamesFor(scenario: Scenario): readonly KpiName[] {
  return scenario.coupons === undefined ? kpiNames : couponMarketKpiNames;
}

export function kpiDefinition(name: string): KpiDefinition | undefined {
  return kpiDefinitions.find((definition) => definition.name === name);
}
