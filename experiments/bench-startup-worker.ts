/**
 * A worker task that does nothing: the reference of `pricelab bench startup`, what a
 * piscina worker thread costs before any pricelab module loads (experiments/bench-startup.ts).
 */
export default function nothing(): number {
  return 0;
}
