/**
 * Card: order statistics of a column of a sales history read block by block
 * (calibration/sales-blocks.ts), without holding the column: the exact quantile of
 * `quantile(sorted copy)` (linear interpolation between the order statistics at
 * (n - 1) p) by radix selection over the 64 bits of each value.
 *
 * Radix selection: a double's bits, with the sign bit flipped for a positive value and every
 * bit flipped for a negative one, order as unsigned integers as the doubles do (-0 before
 * +0, as a typed array sorts them). The k-th smallest value is found 16 bits at a time: a
 * histogram of the next 16 bits among the values whose higher bits match the prefix found
 * so far picks the next 16 bits. Four passes over the rows per order statistic, 65,536
 * counts, whatever the number of rows.
 */
import { salesBlocks, type SalesBlock, type SalesBlockSource } from './sales-blocks.js';

const value = new Float64Array(1);
const words = new Uint32Array(value.buffer);
value[0] = 1;
/** Which word of a double holds its sign and exponent (1 on little-endian machines). */
const high = words[1] === 0x3ff00000 ? 1 : 0;
const low = 1 - high;

/** The 16-bit digit `digit` (0 the most significant) of the order key of `number`. */
function keyDigits(number: number, into: Uint16Array): void {
  value[0] = number;
  let upper = words[high] ?? 0;
  let lower = words[low] ?? 0;
  if (upper >>> 31 === 1) {
    upper = ~upper >>> 0;
    lower = ~lower >>> 0;
  } else upper = (upper | 0x80000000) >>> 0;
  into[0] = upper >>> 16;
  into[1] = upper & 0xffff;
  into[2] = lower >>> 16;
  into[3] = lower & 0xffff;
}

/** The double whose order key has these four digits. */
function fromDigits(digits: Uint16Array): number {
  let upper = (((digits[0] ?? 0) << 16) | (digits[1] ?? 0)) >>> 0;
  let lower = (((digits[2] ?? 0) << 16) | (digits[3] ?? 0)) >>> 0;
  if (upper >>> 31 === 1) upper = (upper & 0x7fffffff) >>> 0;
  else {
    upper = ~upper >>> 0;
    lower = ~lower >>> 0;
  }
  words[high] = upper;
  words[low] = lower;
  return value[0] ?? Number.NaN;
}

/** The k-th smallest (0-based) value of a column over every block, by radix selection. */
export function kthSmallest(sales: SalesBlockSource, column: (block: SalesBlock) => ArrayLike<number>, k: number): number {
  const prefix = new Uint16Array(4);
  const digits = new Uint16Array(4);
  const counts = new Float64Array(65_536);
  let rank = k;
  for (let level = 0; level < 4; level++) {
    counts.fill(0);
    for (const block of salesBlocks(sales)) {
      const values = column(block);
      for (let row = 0; row < block.rows; row++) {
        keyDigits(values[row] ?? 0, digits);
        let matches = true;
        for (let above = 0; above < level && matches; above++) matches = digits[above] === prefix[above];
        if (matches) counts[digits[level] ?? 0] = (counts[digits[level] ?? 0] ?? 0) + 1;
      }
    }
    let digit = 0;
    while (digit < 65_535 && rank >= (counts[digit] ?? 0)) rank -= counts[digit++] ?? 0;
    prefix[level] = digit;
  }
  return fromDigits(prefix);
}

/** The p-quantile of a column of `rows` values, as a sorted copy's linear interpolation at (rows - 1) p gives it. */
export function blockQuantile(sales: SalesBlockSource & { readonly rows: number }, column: (block: SalesBlock) => ArrayLike<number>, probability: number): number {
  if (sales.rows === 0) return 0;
  const position = (sales.rows - 1) * probability;
  const lowRank = Math.floor(position);
  const highRank = Math.ceil(position);
  const lowValue = kthSmallest(sales, column, lowRank);
  const highValue = highRank === lowRank ? lowValue : kthSmallest(sales, column, highRank);
  return lowValue + (highValue - lowValue) * (position - lowRank);
}
