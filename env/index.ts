/** env/: the market simulator. Pure and deterministic given a seed; no I/O. */
export { makeEnv, MarketEnv, TimeLimit, rewardFromTerms, type Env, type StepResult, type StepInfo, type RewardTerms, type ResetOptions } from './env.js';
export { VectorEnv, type VectorEnvOptions } from './vector-env.js';
export { MultiFirmMarket, type MultiFirmStep } from './multi-firm.js';
export { MarketSimulation, type StepOutcome } from './market.js';
export { buildMarketModel, type MarketModel } from './model.js';
export { buildObservationFeatures, type ObservationFeature } from './observation.js';
export { checkScenario, type CheckReport, type CheckResult } from './checker.js';
export { equilibriumOf, oracleOf, type EquilibriumReport, type OracleReport } from './benchmarks.js';
export { LogitStageGame, type StageGameConfig, type PriceProfile } from './stage-game.js';
export { solveFiniteStockDp, solveExponentialContinuous, gallegoVanRyzinValue, type FiniteStockProblem, type OracleResult } from './oracle.js';
export type { EpisodeKpis } from './kpis.js';
export type { DiscreteSpace, BoxSpace } from './spaces.js';
export { CouponMarketEnv, type CouponAction, type CouponStep, type CouponStepInfo } from './coupons/coupon-market.js';
export { CouponKpiAccumulator, type CouponKpis } from './coupons/coupon-kpis.js';
export { CouponEnv, type CouponEnvStepInfo } from './coupons/coupon-env.js';
export { couponMenuOf, couponChoiceOf, couponTerms, targetedFeaturesOf, type CouponMenu, type CouponChoice, type CouponCampaignDescription } from './coupons/coupon-menu.js';
export { optimalCouponDepth } from './coupons/optimal-depth.js';
export { checkReferencePrices, compliantReferencePrice, promotionWindows, ReferencePriceRecorder, referencePriceRuleNames, referencePriceRules, type ReferencePriceReport, type ReferencePriceRuleName, type PromotionWindow } from './reference-price-record.js';
