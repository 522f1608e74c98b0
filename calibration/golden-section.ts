/**
 * Golden-section search for the maximum of a unimodal function of one variable on
 * [low, high], to within `tolerance` (Kiefer 1953): each step keeps the better of two inner
 * points and evaluates one new one. Used for one-dimensional nuisance parameters (the
 * negative binomial's log size, the return lag's mean, the second level's spread across
 * stores), where a derivative-free search over a bracket is all that is needed.
 * Written here: ml-matrix has no one-dimensional optimiser, and a few lines beat a
 * dependency for this.
 */
export function goldenSectionMaximum(objective: (x: number) => number, low: number, high: number, tolerance: number): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let left = high - ratio * (high - low);
  let right = low + ratio * (high - low);
  let leftValue = objective(left);
  let rightValue = objective(right);
  while (high - low > tolerance) {
    if (leftValue < rightValue) {
      low = left;
      left = right;
      leftValue = rightValue;
      right = low + ratio * (high - low);
      rightValue = objective(right);
    } else {
      high = right;
      right = left;
      rightValue = leftValue;
      left = high - ratio * (high - low);
      leftValue = objective(left);
    }
  }
  return (low + high) / 2;
}
