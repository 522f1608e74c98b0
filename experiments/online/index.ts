/** experiments/online/: simulated online experiments (switchback, product or region split, per-customer split) against the truth. */
export { armAgent, type ArmName, type ArmSpecs } from './arm-policy.js';
export { carryOverMechanisms, hasCarryOver } from './carry-over.js';
export { runDays } from './daily-run.js';
export { globalEffect, type GlobalEffect, type MarketUnit } from './truth.js';
export { runSwitchback, switchbackAssignment, type SwitchbackOptions } from './switchback.js';
export { runUnitSplit, splitUnits, splitAssignment, scaledScenario, type UnitSplitOptions } from './unit-split.js';
export { runCustomerSplit, twinScenario, twinName, type CustomerSplitOptions } from './customer-split.js';
export type { OnlineExperimentReport, DesignName } from './report.js';
