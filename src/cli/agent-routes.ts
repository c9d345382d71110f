/**
 * What `automesh check` says about the agents of an agents file: the providers and models each one calls (its
 * own `llm` route, or the chain order), flagging a provider its route names that is not configured (the mesh
 * would refuse to start) and, with MAX_TASK_COST_USD, a model without a price (likewise).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AutoAgent } from '../agent/auto-agent.js';
import { isCustomAgentClass } from '../agent/custom-agent.js';
import type { ProviderName, Settings } from '../config/settings.js';
import { loadPriceTable, priceOf } from '../llm/pricing.js';
import { configuredModel, configuredProviders, requiredSettingsText } from '../llm/providers/index.js';
import { type LoadedAgent, loadAgents } from './load-agents.js';

export interface AgentRouteProvider {
  name: ProviderName;
  model: string;
  configured: boolean;
  /** False when the price table does not know the model (its cost is reported as null). */
  priced: boolean;
}

export interface AgentRoute {
  role: string | null;
  source: string;
  /** True when the agent sets its own `llm` order or models. */
  own: boolean;
  providers: AgentRouteProvider[];
  problems: string[];
  /** True for a CustomAgent: your own code, which calls no model of the chain. */
  custom?: boolean;
}

export interface AgentRouteItem {
  id: string;
  status: 'ok' | 'fail' | 'info';
  message: string;
  hint?: string;
  details?: string[];
}

/** The agents file `check` reads: the one named, or ./agents.ts (.js, .mjs) when there is one. */
export function agentsFileFor(named: string | undefined, cwd: string): string | null {
  if (named !== undefined) return named;
  return ['agents.ts', 'agents.js', 'agents.mjs'].find((f) => existsSync(resolve(cwd, f))) ?? null;
}

function routeOf(entry: LoadedAgent, settings: Settings, prices: ReturnType<typeof loadPriceTable>): AgentRoute {
  let agent: AutoAgent;
  try {
    if (isCustomAgentClass(entry.agent)) {
      const custom = new entry.agent();
      return { role: custom.role, source: entry.source, own: false, providers: [], problems: [], custom: true };
    }
    agent = typeof entry.agent === 'function' ? new entry.agent() : new AutoAgent(entry.agent);
  } catch (err) {
    return {
      role: null,
      source: entry.source,
      own: false,
      providers: [],
      problems: [err instanceof Error ? err.message : String(err)],
    };
  }
  const route = agent.definition.llm;
  const configured = configuredProviders(settings);
  // Without its own order an agent uses the chain: LLM_PROVIDER_ORDER, unconfigured providers left out.
  const order = route?.order ?? settings.LLM_PROVIDER_ORDER.filter((name) => configured[name]);
  const providers = order.map((name) => {
    const model = route?.models?.[name] ?? configuredModel(settings, name);
    return { name, model, configured: configured[name], priced: !priceOf(prices, name, model, 1, 1).unpriced };
  });
  const problems: string[] = [];
  for (const p of providers) {
    if (!p.configured)
      problems.push(
        `llm.order names ${p.name}, which is not configured: set ${requiredSettingsText(p.name)}, or remove it from the order`,
      );
    if (!p.priced && settings.MAX_TASK_COST_USD !== undefined) {
      problems.push(
        `${p.name} model "${p.model}" has no price, so MAX_TASK_COST_USD cannot bound it: add it to the price table (LLM_PRICES_FILE) or unset MAX_TASK_COST_USD`,
      );
    }
  }
  return { role: agent.role, source: entry.source, own: route !== undefined, providers, problems };
}

function itemOf(route: AgentRoute): AgentRouteItem {
  const id = `agent.${route.role ?? route.source}`;
  const name = route.role ?? route.source;
  if (route.role === null)
    return { id, status: 'fail', message: `${name}: ${route.problems.join('; ')}`, hint: 'fix the agent definition' };
  if (route.custom) return { id, status: 'info', message: `${name.padEnd(12)} custom agent: calls no model` };
  const chain =
    route.providers
      .map((p) => `${p.name} (${p.model}${p.priced ? '' : ', unpriced'}${p.configured ? '' : ', NOT CONFIGURED'})`)
      .join(' → ') || 'no configured provider';
  const message = `${name.padEnd(12)} ${route.own ? 'own llm: ' : 'chain order: '}${chain}`;
  if (route.problems.length > 0) {
    return { id, status: 'fail', message, details: route.problems, hint: `agent "${name}": ${route.problems[0]}` };
  }
  return { id, status: route.own ? 'ok' : 'info', message };
}

/** Loads the agents file and describes each agent's providers and models. A file that does not load is one failed item. */
export async function checkAgentRoutes(
  file: string,
  cwd: string,
  settings: Settings,
): Promise<{ file: string; agents: AgentRoute[]; items: AgentRouteItem[] }> {
  let loaded;
  try {
    loaded = await loadAgents(file, cwd);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      file,
      agents: [],
      items: [{ id: 'agents-file', status: 'fail', message, hint: 'fix the agents file (automesh run reads it too)' }],
    };
  }
  const prices = loadPriceTable(settings.LLM_PRICES_FILE);
  const agents = loaded.agents.map((entry) => routeOf(entry, settings, prices));
  const items: AgentRouteItem[] = [
    {
      id: 'agents-file',
      status: 'info',
      message: `${loaded.file}: ${agents.length} agent${agents.length === 1 ? '' : 's'}`,
    },
    ...agents.map(itemOf),
  ];
  return { file: loaded.file, agents, items };
}
