/**
 * Which model each agent calls: the mesh's, or one over the agent's own `llm` route (its provider order and
 * models), with the mesh's middleware around it too. Built at `mesh.start()`, so a route naming an unconfigured
 * provider, or (with MAX_TASK_COST_USD) a model without a price, stops the start with a message naming the agent.
 */
import type { Settings } from '../config/settings.js';
import type { CodeModel } from '../llm/code-model.js';
import { refuseUnpriced } from './budget.js';
import type { AgentDefinition } from './definition.js';

/** Each agent's model by role. */
export function agentModels(
  settings: Settings,
  model: CodeModel,
  agents: Iterable<{ role: string; definition: AgentDefinition }>,
): Map<string, CodeModel> {
  const models = new Map<string, CodeModel>();
  for (const agent of agents) {
    const own = model.route(agent.definition.llm, `Agent "${agent.role}"`);
    if (settings.MAX_TASK_COST_USD !== undefined) refuseUnpriced(own, `agent "${agent.role}"`, 'MAX_TASK_COST_USD');
    models.set(agent.role, own);
  }
  return models;
}

/** The model an agent calls: its own when it has a route, else the mesh's. */
export function modelOf(
  runtime: { model: CodeModel; agentModels?: ReadonlyMap<string, CodeModel> },
  role: string,
): CodeModel {
  return runtime.agentModels?.get(role) ?? runtime.model;
}
