/**
 * Segment groups: segments that share a return logit offset, so a return probability.
 * Nothing downstream of the customers' choice tells a group's segments apart, so our units
 * demanded are drawn per group (env/day/demand.ts), sold per group (env/day/inventory.ts)
 * and returned per group (env/day/returns.ts). Textbook demand (no segments) is one group.
 */
import type { MarketModel } from '../model.js';

export class SegmentGroups {
  /** group[segment]: the segment's group. */
  readonly group: Int32Array;
  /** representative[group]: a segment of the group, to read the group's return probability. */
  readonly representative: Int32Array;
  readonly count: number;

  constructor(model: MarketModel) {
    const segments = Math.max(1, model.segments.length);
    const offsets = Array.from({ length: segments }, (_, index) => model.segments[index]?.returnLogitOffset ?? 0);
    const distinctOffsets = [...new Set(offsets)];
    this.group = Int32Array.from(offsets, (offset) => distinctOffsets.indexOf(offset));
    this.representative = Int32Array.from(distinctOffsets, (value) => offsets.indexOf(value));
    this.count = distinctOffsets.length;
  }
}
