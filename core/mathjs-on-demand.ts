/**
 * mathjs, loaded on first use. Importing it costs about 0.7 s of CPU (2 s on a loaded
 * machine), which every command and every sweep worker paid at start-up while scenarios/curves.ts
 * imported it statically; now only a curve written as an expression (scenarios/curves.ts) or a
 * doubly robust reward model (experiments/off-policy/reward-model.ts) loads it. Loading is
 * synchronous (mathjs's CommonJS build, the same code as its ES build) because compiling
 * a curve is.
 */
import { createRequire } from 'node:module';
import type * as MathJs from 'mathjs';

const require = createRequire(import.meta.url);

export function loadMathjs(): typeof MathJs {
  return require('mathjs') as typeof MathJs;
}
