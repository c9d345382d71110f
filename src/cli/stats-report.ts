/**
 * What `automesh stats` reports, from stored results: per agent (tasks, success rate, first-try success, repairs,
 * registry hits, tokens, cost) and per model (calls, tokens, and the cost of the tasks it answered last).
 */
import type { StoredResult } from '../storage/index.js';

export interface AgentStats {
  agent: string;
  tasks: number;
  succeeded: number;
  failed: number;
  /** succeeded / tasks. */
  successRate: number;
  /** Tasks that asked a model for code (not answered from the registry). */
  generated: number;
  /** Generated tasks whose first code worked: firstTry / generated (null with none generated). */
  firstTry: number;
  firstTryRate: number | null;
  repairs: number;
  registryHits: number;
  inputTokens: number;
  outputTokens: number;
  /** Summed over the tasks with a known cost; `unpricedTasks` had none. */
  costUsd: number;
  unpricedTasks: number;
  /** Failures by error category. */
  errors: Record<string, number>;
}

export interface ModelStats {
  provider: string;
  model: string;
  /** Model calls that gave a reply (attempts with this provider and model). */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** The tasks whose last reply came from this model, and their cost. */
  tasks: number;
  costUsd: number;
}

export interface StatsReport {
  since: string | null;
  tasks: number;
  succeeded: number;
  costUsd: number;
  agents: AgentStats[];
  models: ModelStats[];
}

interface StoredAttempt {
  provider?: unknown;
  errorCategory?: unknown;
  model?: unknown;
  reply?: unknown;
  tokens?: { input?: unknown; output?: unknown };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function newAgent(agent: string): AgentStats {
  return {
    agent,
    tasks: 0,
    succeeded: 0,
    failed: 0,
    successRate: 0,
    generated: 0,
    firstTry: 0,
    firstTryRate: null,
    repairs: 0,
    registryHits: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    unpricedTasks: 0,
    errors: {},
  };
}

function newModel(provider: string, model: string): ModelStats {
  return { provider, model, calls: 0, inputTokens: 0, outputTokens: 0, tasks: 0, costUsd: 0 };
}

export class StatsCollector {
  private readonly agents = new Map<string, AgentStats>();
  private readonly models = new Map<string, ModelStats>();

  constructor(private readonly since: string | null) {}

  add(result: StoredResult): void {
    const e = result.envelope;
    const agent = this.agents.get(result.role) ?? newAgent(result.role);
    this.agents.set(result.role, agent);
    agent.tasks += 1;
    if (e.status === 'success') agent.succeeded += 1;
    else {
      agent.failed += 1;
      const category = typeof e.errorCategory === 'string' ? e.errorCategory : 'unknown';
      agent.errors[category] = (agent.errors[category] ?? 0) + 1;
    }
    agent.repairs += count(e.repairs);
    const tokens = (e.tokens ?? {}) as { input?: unknown; output?: unknown };
    agent.inputTokens += count(tokens.input);
    agent.outputTokens += count(tokens.output);
    if (typeof e.costUsd === 'number') agent.costUsd += e.costUsd;
    else agent.unpricedTasks += 1;
    const attempts = (Array.isArray(e.attempts) ? e.attempts : []) as StoredAttempt[];
    if (e.cached === true) agent.registryHits += 1;
    // A model was asked: an attempt with a provider that its budget did not refuse before the call.
    else if (attempts.some((a) => typeof a.provider === 'string' && a.errorCategory !== 'budget')) {
      agent.generated += 1;
      if (e.status === 'success' && count(e.repairs) === 0) agent.firstTry += 1;
    }
    this.addModels(attempts, e);
  }

  private model(provider: unknown, model: unknown): ModelStats | null {
    if (typeof provider !== 'string' || typeof model !== 'string') return null;
    const key = `${provider}\u0000${model}`;
    const found = this.models.get(key) ?? newModel(provider, model);
    this.models.set(key, found);
    return found;
  }

  private addModels(attempts: StoredAttempt[], envelope: Record<string, unknown>): void {
    for (const attempt of attempts) {
      const stats = this.model(attempt.provider, attempt.model);
      if (!stats || typeof attempt.reply !== 'string') continue;
      stats.calls += 1;
      stats.inputTokens += count(attempt.tokens?.input);
      stats.outputTokens += count(attempt.tokens?.output);
    }
    const last = this.model(envelope.provider, envelope.model);
    if (!last) return;
    last.tasks += 1;
    if (typeof envelope.costUsd === 'number') last.costUsd += envelope.costUsd;
  }

  report(): StatsReport {
    const agents = [...this.agents.values()].sort((a, b) => a.agent.localeCompare(b.agent));
    for (const a of agents) {
      a.successRate = a.tasks > 0 ? a.succeeded / a.tasks : 0;
      a.firstTryRate = a.generated > 0 ? a.firstTry / a.generated : null;
    }
    const models = [...this.models.values()].sort(
      (a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model),
    );
    return {
      since: this.since,
      tasks: agents.reduce((n, a) => n + a.tasks, 0),
      succeeded: agents.reduce((n, a) => n + a.succeeded, 0),
      costUsd: agents.reduce((n, a) => n + a.costUsd, 0),
      agents,
      models,
    };
  }
}
