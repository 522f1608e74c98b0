/** agents/: pricing policies behind one small interface. */
export { parseRulePolicy, nearestIndex, ruleKinds, type Policy, type PolicyContext } from './rules.js';
