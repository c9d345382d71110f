/**
 * A mesh's Prometheus metrics (prom-client), in a registry of the mesh's own rather than prom-client's global one, so
 * two meshes in one process count apart. Label values come from small sets only: agent roles, providers, models,
 * error categories, statuses; never task text, ids or error messages.
 */
import { Gauge, Registry } from 'prom-client';
import type { Envelope } from '../agent/envelope.js';
import type { LlmCallEvent } from '../llm/call-events.js';
import type { LlmReply } from '../llm/types.js';
import { SumCounter } from './sum-counter.js';
import { SumHistogram } from './sum-histogram.js';

/** Seconds: a task, a model call (instant in tests, minutes for a slow model), an execution. */
const TASK_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const LLM_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const EXECUTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300];

/** The label of "no error category" and of "outside any task". */
export const NONE = 'none';

export class MeshMetrics {
  /** The mesh's own registry: render it (`metrics()`), or merge it into another with `Registry.merge`. */
  readonly registry = new Registry();
  private readonly tasks: SumCounter<'agent' | 'status' | 'error_category'>;
  private readonly repairs: SumCounter<'agent'>;
  private readonly generated: SumCounter<'agent'>;
  private readonly firstTry: SumCounter<'agent'>;
  private readonly registryHits: SumCounter<'agent'>;
  private readonly taskSeconds: SumHistogram<'agent' | 'status'>;
  private readonly llmCalls: SumCounter<'provider' | 'model' | 'status'>;
  private readonly llmEvents: SumCounter<'provider' | 'kind'>;
  private readonly llmSeconds: SumHistogram<'provider' | 'model'>;
  private readonly tokens: SumCounter<'provider' | 'model' | 'agent' | 'type'>;
  private readonly cost: SumCounter<'provider' | 'model' | 'agent'>;
  private readonly executionSeconds: SumHistogram<'outcome'>;
  private readonly steps: SumCounter<'agent' | 'status'>;
  private readonly workflows: SumCounter<'status'>;

  constructor() {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]): SumCounter<L> =>
      new SumCounter(this.registry, name, help, labelNames);
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      buckets: number[],
    ): SumHistogram<L> => new SumHistogram(this.registry, name, help, labelNames, buckets);
    this.tasks = counter(
      'automesh_tasks_total',
      'Tasks ended, by agent, status and error category (none for a success).',
      ['agent', 'status', 'error_category'],
    );
    this.repairs = counter(
      'automesh_task_repairs_total',
      'Repair calls made (the failure shown to the model, new code asked for).',
      ['agent'],
    );
    this.generated = counter(
      'automesh_tasks_generated_total',
      'Tasks that asked a model for code (not answered from the code registry).',
      ['agent'],
    );
    this.firstTry = counter(
      'automesh_tasks_first_try_success_total',
      'Generated tasks whose first code worked, with no repair.',
      ['agent'],
    );
    this.registryHits = counter(
      'automesh_registry_hits_total',
      'Tasks answered by registered code, with no model call.',
      ['agent'],
    );
    const generated = this.generated;
    const firstTry = this.firstTry;
    new Gauge({
      name: 'automesh_first_try_success_ratio',
      help: 'Of the generated tasks, the share whose first code worked (first_try_success / generated).',
      labelNames: ['agent'],
      registers,
      collect() {
        this.reset();
        const tried = new Map(firstTry.values().map((sum) => [sum.labels.agent, sum.value]));
        for (const { labels, value } of generated.values()) {
          if (value > 0) this.set({ agent: labels.agent }, (tried.get(labels.agent) ?? 0) / value);
        }
      },
    });
    this.taskSeconds = histogram(
      'automesh_task_duration_seconds',
      'Wall time of a task, from its start to its envelope.',
      ['agent', 'status'],
      TASK_BUCKETS,
    );
    this.llmCalls = counter(
      'automesh_llm_calls_total',
      'Model calls through the provider chain, by the provider that answered (or was last tried) and status.',
      ['provider', 'model', 'status'],
    );
    this.llmEvents = counter(
      'automesh_llm_retries_failovers_total',
      'Retries of a provider and failovers away from it (kind retry or failover), by that provider.',
      ['provider', 'kind'],
    );
    this.llmSeconds = histogram(
      'automesh_llm_call_duration_seconds',
      'Wall time of a model call, retries and failovers included.',
      ['provider', 'model'],
      LLM_BUCKETS,
    );
    this.tokens = counter(
      'automesh_llm_tokens_total',
      'Tokens the providers reported (type input or output), by provider, model and agent.',
      ['provider', 'model', 'agent', 'type'],
    );
    this.cost = counter(
      'automesh_llm_cost_usd_total',
      'USD of the model calls with a known price, by provider, model and agent.',
      ['provider', 'model', 'agent'],
    );
    this.executionSeconds = histogram(
      'automesh_execution_duration_seconds',
      'Wall time of one sandbox execution, by outcome (success, or the error category).',
      ['outcome'],
      EXECUTION_BUCKETS,
    );
    this.steps = counter(
      'automesh_workflow_steps_total',
      'Workflow steps ended, by agent and status (success, failure, skipped, recovered).',
      ['agent', 'status'],
    );
    this.workflows = counter(
      'automesh_workflows_total',
      'Workflow runs ended, by status (finished, failed, cancelled).',
      ['status'],
    );
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  taskEnded(agent: string, envelope: Envelope, seconds: number): void {
    const category = envelope.errorCategory ?? NONE;
    this.tasks.inc({ agent, status: envelope.status, error_category: category });
    this.taskSeconds.observe({ agent, status: envelope.status }, seconds);
    if (envelope.repairs > 0) this.repairs.inc({ agent }, envelope.repairs);
    if (envelope.cached) {
      this.registryHits.inc({ agent });
      return;
    }
    // A task that made no model call at all (refused by its budget before it) was not generated.
    if (!envelope.attempts.some((a) => a.provider !== null && a.errorCategory !== 'budget')) return;
    this.generated.inc({ agent });
    if (envelope.status === 'success' && envelope.repairs === 0) this.firstTry.inc({ agent });
  }

  llmReplied(reply: LlmReply, agent: string, seconds: number): void {
    const { provider, model } = reply;
    this.llmCalls.inc({ provider, model, status: 'ok' });
    this.llmSeconds.observe({ provider, model }, seconds);
    this.tokens.inc({ provider, model, agent, type: 'input' }, reply.tokens.input);
    this.tokens.inc({ provider, model, agent, type: 'output' }, reply.tokens.output);
    if (reply.costUsd !== null) this.cost.inc({ provider, model, agent }, reply.costUsd);
  }

  llmFailed(provider: string, model: string, seconds: number): void {
    this.llmCalls.inc({ provider, model, status: 'error' });
    this.llmSeconds.observe({ provider, model }, seconds);
  }

  llmEvent(event: LlmCallEvent): void {
    this.llmEvents.inc({ provider: event.provider, kind: event.kind });
  }

  executed(outcome: string, seconds: number): void {
    this.executionSeconds.observe({ outcome }, seconds);
  }

  stepEnded(agent: string, status: string): void {
    this.steps.inc({ agent, status });
  }

  workflowEnded(status: 'finished' | 'failed' | 'cancelled'): void {
    this.workflows.inc({ status });
  }
}
