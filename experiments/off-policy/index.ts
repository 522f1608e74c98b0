/** experiments/off-policy/: decision logs with propensities, IPS / SNIPS / doubly robust estimates, and the simulator's truth. */
export { decisionRecordSchema, parseDecisionLog, formatDecisionLog, type DecisionRecord, type LogExpectations } from './log-record.js';
export { rulePolicy, epsilonMixture, sampleAction, type ActionPolicy } from './action-policy.js';
export { banditScenario } from './bandit-scenario.js';
export { collectLog, contextVector, type CollectLogOptions } from './collect-log.js';
export { crossFittedRewardModel, type RewardModelOptions } from './reward-model.js';
export { estimatePolicyValue, ipsEstimate, snipsEstimate, doublyRobustEstimate, importanceWeights, type LoggedDecision, type OffPolicyEstimate, type OffPolicyEstimates } from './estimators.js';
export { replayExpectedRewards, expectedValueOnContexts, simulateOnPolicy, type ReplayResult } from './truth.js';
