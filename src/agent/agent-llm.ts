/**
 * Which provider chain each agent calls: the mesh's, or one over the agent's own `llm` route (its provider
 * order and models). Built at `mesh.start()`, so a route naming an unconfigured provider, or (with
 * MAX_TASK_COST_USD) a model without a price, stops the start with a message naming the agent.
 */
import type { Settings } from '../config/settings.js';
import type { LlmChain } from '../llm/chain.js';
import { refuseUnpriced } from './budget.js';
import type { AgentDefinition } from './definition.js';

/** Each agent's chain by role. */
export function agentChains(
  settings: Settings,
  chain: LlmChain,
  agents: Iterable<{ role: string; definition: AgentDefinition }>,
): Map<string, LlmChain> {
  const chains = new Map<string, LlmChain>();
  for (const agent of agents) {
    const own = chain.route(agent.definition.llm, `Agent "${agent.role}"`);
    if (settings.MAX_TASK_COST_USD !== undefined) refuseUnpriced(own, `agent "${agent.role}"`, 'MAX_TASK_COST_USD');
    chains.set(agent.role, own);
  }
  return chains;
}

/** The chain an agent calls: its own when it has a route, else the mesh's. */
export function chainOf(runtime: { chain: LlmChain; chains?: ReadonlyMap<string, LlmChain> }, role: string): LlmChain {
  return runtime.chains?.get(role) ?? runtime.chain;
}
