/**
 * The dashboard's data, read from a {@link StudioSource}: agents, workflows and their graphs, step envelopes, the
 * code registry, results and their numbers. Plain JSON data; the handler redacts and sends it.
 */
import type { RegistryEntry } from '../registry/types.js';
import type { StepRecord, WorkflowHeader, WorkflowSnapshot } from '../storage/types.js';
import type { GraphStep, StudioAgent, StudioStats, WorkflowGraph } from './api-types.js';
import type { StudioSource } from './source.js';
import { studioStats } from './stats.js';

/** A registry entry without its code (listings); the code comes with {@link registryEntry}. */
export type RegistryLine = Omit<RegistryEntry, 'code'> & { codeLines: number };

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

function graphStep(stepId: string, index: number, plan: WorkflowHeader['plan'], record?: StepRecord): GraphStep {
  const planned = plan?.find((line) => line.stepId === stepId);
  const envelope = record?.envelope ?? null;
  const tokens = envelope?.tokens as { total?: unknown } | undefined;
  return {
    stepId,
    index: record?.index ?? index,
    role: record?.role ?? planned?.role ?? null,
    task: record?.task ?? null,
    dependsOn: planned?.dependsOn ?? null,
    status: record?.status ?? 'pending',
    startedAt: record?.startedAt ?? null,
    finishedAt: record?.finishedAt ?? null,
    repairs: num(envelope?.repairs),
    costUsd: num(envelope?.costUsd),
    tokens: num(tokens?.total),
    errorCategory: typeof envelope?.errorCategory === 'string' ? envelope.errorCategory : null,
    cached: envelope?.cached === true,
  };
}

/** A snapshot as a graph: every planned step (a step with no record yet is pending), in step order. */
export function graphOf(workflowId: string, snapshot: WorkflowSnapshot): WorkflowGraph {
  const { header } = snapshot;
  const byId = new Map(snapshot.steps.map((s) => [s.stepId, s]));
  const ids = header?.stepIds ?? snapshot.steps.map((s) => s.stepId);
  const extra = snapshot.steps.map((s) => s.stepId).filter((id) => !ids.includes(id));
  return {
    workflowId,
    status: header?.status ?? 'unknown',
    startedAt: header?.startedAt ?? null,
    updatedAt: header?.updatedAt ?? null,
    steps: [...ids, ...extra].map((id, i) => graphStep(id, i, header?.plan, byId.get(id))),
    damaged: snapshot.damaged,
  };
}

export class StudioData {
  constructor(
    private readonly source: StudioSource,
    private readonly now: () => number = Date.now,
  ) {}

  get location(): string {
    return this.source.location;
  }

  /** The live catalog when there is a mesh; else the roles of the result log's recent results (no node). */
  async agents(): Promise<StudioAgent[]> {
    if (this.source.agents) return this.source.agents();
    const recent = await this.source.storage.results.list({ limit: 1000 });
    const roles = [...new Set(recent.map((r) => r.role))].sort();
    return roles.map((name) => ({ name, node: null, shape: null, description: '', tags: [] }));
  }

  async workflows(limit = 100): Promise<{ workflows: WorkflowHeader[]; damaged: WorkflowSnapshot['damaged'] }> {
    const listing = await this.source.storage.workflows.list({ limit });
    return { workflows: listing.headers, damaged: listing.damaged };
  }

  async workflow(workflowId: string): Promise<WorkflowGraph | null> {
    const snapshot = await this.source.storage.workflows.load(workflowId);
    return snapshot ? graphOf(workflowId, snapshot) : null;
  }

  /** One step's whole record: its envelope (output, code, attempts with the raw replies, errors, tokens, cost). */
  async step(workflowId: string, stepId: string): Promise<StepRecord | null> {
    const snapshot = await this.source.storage.workflows.load(workflowId);
    return snapshot?.steps.find((s) => s.stepId === stepId) ?? null;
  }

  async results(options: { role?: string; limit?: number }) {
    return this.source.storage.results.list({
      limit: options.limit ?? 50,
      ...(options.role ? { role: options.role } : {}),
    });
  }

  result(resultId: string) {
    return this.source.storage.results.get(resultId);
  }

  /** Entries (newest first, or best match first for `query`), counts per stage, damaged records. */
  async registry(query: string | null, limit = 200) {
    const scan = query
      ? await this.source.storage.registry.search(query, { limit })
      : await this.source.storage.registry.list();
    const entries = scan.entries.slice(0, limit);
    const stages: Record<string, number> = {};
    for (const entry of entries) stages[entry.stage] = (stages[entry.stage] ?? 0) + 1;
    return {
      entries: entries.map(({ code, ...rest }): RegistryLine => ({ ...rest, codeLines: code.split('\n').length })),
      stages,
      damaged: scan.damaged,
    };
  }

  registryEntry(id: string): Promise<RegistryEntry | null> {
    return this.source.storage.registry.get(id);
  }

  stats(sinceMs: number): Promise<StudioStats> {
    const since = new Date(sinceMs).toISOString();
    return studioStats(this.source.storage.results.scan({ since }), sinceMs, this.now());
  }
}
