/** scenarios/: versioned scenario files and the schema that validates them. */
export { loadScenario, parseScenario, validateScenario, builtInScenarioIds, builtInScenarioFolder, type LoadedScenario } from './load.js';
export { scenarioSchema, type Scenario, type ScenarioInput } from './schema.js';
export { couponsSchema, customerStages, type CouponsConfig, type CouponCampaign, type CustomerStage } from './coupons.js';
