/** serving/: the policy registry, promotion gates, the pricing service and its HTTP endpoint. */
export { PolicyRegistry, parsePolicyReference, aliasNames, type AliasName, type PolicyVersion, type AuditEntry, type Lineage } from './registry.js';
export { openPolicyRegistry, usingPolicyRegistry, type PolicyRegistryBackend } from './registry-backend.js';
export { checkPromotion, promotionPolicySchema, gateNames, type GateName, type GateResult, type PromotionDecision, type PromotionPolicy } from './promotion-gates.js';
export { promote, readEvidenceFiles, type PromotionRequest, type PromotionOutcome } from './promotion.js';
export { ServedPolicy, type PolicyDecision, type Explanation } from './served-policy.js';
export { PricingService, keyShare, type PriceRequest, type PriceResponse } from './pricing-service.js';
export { createApp, listen, type ServerOptions } from './server.js';
export { servingConfigSchema, parseServingConfig, loadServingConfig, type ServingConfig, type PolicyServing } from './serving-config.js';
export { ServingMetrics } from './metrics.js';
export { hashToken, loadTokens, authenticate, createToken, type TokenStore } from './auth.js';
export { benchServing, type ServingBenchResult } from './bench-serving.js';
export { checkFairnessGate, withFairnessGate, fairnessBoundsSchema, targetingDeclarationSchema, type FairnessBounds, type FairnessEvidence } from './fairness-gate.js';
export { checkCollusionGate, collusionGateSchema, type CollusionGateSettings } from './collusion-gate.js';
export { servedReferencePrice, daysToMarkedFestival, type ServedReferencePrice } from './reference-price.js';
