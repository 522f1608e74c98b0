/** agents/: pricing policies behind one small interface (agents/agent.ts). */
export type { Agent, AgentContext, AgentExport, AgentCapabilities, Transition, ActOptions, MarketView } from './agent.js';
export { agentContextOf } from './agent.js';
export type { AgentDefinition } from './definition.js';
export { agentDefinitions, agentDefinition, createAgent, restoreAgent } from './registry.js';
export { parsePolicySpec, policySpecs } from './policy-spec.js';
export { buildArtifact, writeArtifact, readArtifact, type PolicyArtifact, type PolicyManifest } from './artifact.js';
export { nearestIndex } from './rule-agent.js';
export { runCalvanoSession, impulseResponse, calvanoConfigSchema, type CalvanoSessionResult } from './calvano.js';
