/**
 * What the benchmarks that measure another build beside this one share: their options
 * (`--baseline <dist>`, a progress line) and the head of their JSON (which benchmark, on which
 * node and CPU, under what load before and after). `pricelab bench startup` and `pricelab bench
 * coupons` use them.
 */

export interface BaselineOptions {
  /** Another build's dist/ folder, measured in the same rounds. */
  readonly baseline?: string | undefined;
  readonly progress?: (message: string) => void;
}

export interface BenchHead<Kind extends string> {
  readonly benchmark: Kind;
  readonly node: string;
  readonly cpu: string;
  /** os.loadavg() (1, 5 and 15 minutes) before and after the measurements. */
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
}
