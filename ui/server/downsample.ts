/**
 * Down-sampling a batch of simulated days for the page: consecutive days are merged into
 * buckets of equal size so that a frame holds at most `maxPoints` points per arm. In a
 * bucket, flows (prices, units, money per day) are means per day, levels (stock, pipeline,
 * reference prices) and cumulative sums are the bucket's last day's, and a festival,
 * pre-sale or weather mark is kept if any day of the bucket had it (the last day's weather);
 * on a coupon scenario the coupon is the last day's and the coupon cost a mean per day.
 * The bucket's point carries its last day and its size (`days`).
 */
import type { DayPoint } from '../shared/events.js';

export function downsample(points: readonly DayPoint[], maxPoints: number): DayPoint[] {
  if (points.length <= maxPoints) return [...points];
  const size = Math.ceil(points.length / maxPoints);
  const buckets: DayPoint[] = [];
  for (let start = 0; start < points.length; start += size) buckets.push(merge(points.slice(start, start + size)));
  return buckets;
}

const meanOf = (bucket: readonly DayPoint[], read: (point: DayPoint) => number): number => bucket.reduce((total, point) => total + read(point) * point.days, 0) / bucket.reduce((total, point) => total + point.days, 0);

function merge(bucket: readonly DayPoint[]): DayPoint {
  const last = bucket[bucket.length - 1] as DayPoint;
  if (bucket.length === 1) return last;
  return {
    ...last,
    days: bucket.reduce((total, point) => total + point.days, 0),
    price: meanOf(bucket, (point) => point.price),
    proposedPrice: meanOf(bucket, (point) => point.proposedPrice),
    rivalPrices: last.rivalPrices.map((_, rival) => meanOf(bucket, (point) => point.rivalPrices[rival] ?? 0)),
    demand: meanOf(bucket, (point) => point.demand),
    sold: meanOf(bucket, (point) => point.sold),
    lostSales: meanOf(bucket, (point) => point.lostSales),
    soldBySegment: last.soldBySegment.map((_, segment) => meanOf(bucket, (point) => point.soldBySegment[segment] ?? 0)),
    lostBySegment: last.lostBySegment.map((_, segment) => meanOf(bucket, (point) => point.lostBySegment[segment] ?? 0)),
    unitsOrdered: meanOf(bucket, (point) => point.unitsOrdered),
    unitsReturned: meanOf(bucket, (point) => point.unitsReturned),
    refunds: meanOf(bucket, (point) => point.refunds),
    revenue: meanOf(bucket, (point) => point.revenue),
    profit: meanOf(bucket, (point) => point.profit),
    eventDay: bucket.some((point) => point.eventDay),
    presaleDay: bucket.some((point) => point.presaleDay),
    ...(last.couponCost === undefined ? {} : { couponCost: meanOf(bucket, (point) => point.couponCost ?? 0) }),
  };
}
