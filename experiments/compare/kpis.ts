/**
 * The KPIs a comparison reports, each with the direction that is better for the shop.
 * They are the episode KPIs of env/kpis.ts (EpisodeKpis), minus `days` (the same for every
 * arm). A KPI whose direction is 'none' (average price, price index) describes a policy
 * but is not better or worse by itself: it gets means and intervals, no verdict.
 *
 * KPIs that are null for a scenario (inventory turnover with unlimited stock, price index
 * without rivals, profit gain without Nash/monopoly benchmarks) are left out of that
 * scenario's comparison.
 */
import type { EpisodeKpis } from '../../env/kpis.js';

export type KpiName = Exclude<keyof EpisodeKpis, 'days'>;

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
];

export const kpiNames: readonly KpiName[] = kpiDefinitions.map((definition) => definition.name);

export function kpiDefinition(name: string): KpiDefinition | undefined {
  return kpiDefinitions.find((definition) => definition.name === name);
}
