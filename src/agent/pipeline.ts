/**
 * The AutoAgent pipeline for one task: reuse registered code when the registry knows the task, else
 * generate → validate → execute → repair (up to MAX_REPAIR_ATTEMPTS) → register, and store the result.
 *
 * What JarvisCore's AutoAgent got wrong, and this file gets right: the envelope's `code` is the code that
 * succeeded (after repairs) and is what gets registered; `repairs` counts repair calls; tokens and cost
 * are the sums the providers reported; a syntax error is repaired like any failure; code that sets no
 * `result` fails with `no_result`; registered code is reused with no LLM call.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { describeContext } from '../codegen/context-shape.js';
import { extractCode } from '../codegen/extract.js';
import { findNonJsonData } from '../codegen/json-data.js';
import { render, type PromptTemplates } from '../codegen/prompts.js';
import { describeTools } from '../codegen/tool-docs.js';
import type { LlmCallObserver } from '../llm/call-events.js';
import type { CodeModel } from '../llm/code-model.js';
import { LlmAbortError, LlmChainError } from '../llm/errors.js';
import type { LlmReply } from '../llm/types.js';
import {
  codeDependencies, CodeRegistry, type CodeDependencies, type DamagedRecord, type LookupInput, type RegisterInput,
  type RegistryEntry,
} from '../registry/index.js';
import type { CodeExecutor } from '../sandbox/executor-contract.js';
import type { ToolDefinition } from '../sandbox/tools.js';
import type { ExecutionResult } from '../sandbox/types.js';
import type { ResultStore } from '../storage/index.js';
import { modelOf } from './agent-llm.js';
import { chargeCall, refuseCall, taskBudgets, type Budget } from './budget.js';
import { addTokens, ZERO_TOKENS, type Attempt, type Envelope, type EnvelopeErrorCategory } from './envelope.js';
import { describeOutputSchema, outputMismatch, outputSchemaFor } from './output-schema.js';
import { boundedReply } from './reply.js';
import type { TaskWarning } from './warning.js';

/** What an agent needs to run tasks; built by the mesh at `start()`. */
export interface AgentRuntime {
  settings: Settings;
  /** The model agents ask for code (the provider chain behind the mesh's model middleware). */
  model: CodeModel;
  /** Agents' own models (their `llm` route), by role; an agent without one uses `model`. */
  agentModels?: ReadonlyMap<string, CodeModel>;
  /** Where generated code runs (the sandbox's worker pool behind the mesh's executor middleware). */
  executor: CodeExecutor;
  registry: CodeRegistry;
  results: ResultStore;
  prompts: PromptTemplates;
  /** Aborted when the mesh stops in `cancel` mode: every task in flight is cancelled. */
  stopSignal: AbortSignal;
  /** Registers work in flight, so that `mesh.stop()` can wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /**
   * Admits a new task before anything of it runs: throws when `mesh.stop()` is in progress, or when `id` names a
   * task still in flight in this mesh (their results would overwrite each other). Returns what to call when the
   * task ends. Set by the mesh; a runtime built for one `runTask` call (the CLI's smoketest) has none.
   */
  admitTask?(id: string | undefined): () => void;
  /** Hears what a task survived but a person should know (the mesh's `warning` event); stderr when absent. */
  warn?(warning: TaskWarning): void;
}

export interface TaskInput {
  /** Becomes the result id (letters, digits, `-`, `_`, `.`); generated when absent. */
  id?: string;
  task: string;
  context?: Record<string, unknown>;
  /** A zod 4 schema the result must match; overrides the agent's `outputSchema`. */
  outputSchema?: z.ZodType;
  signal?: AbortSignal;
  /** Most USD this task may spend on model calls; overrides MAX_TASK_COST_USD (see `budget.ts`). */
  budgetUsd?: number;
  /** @internal The budget of the workflow this task is a step of, shared by its steps. */
  workflowBudget?: Budget;
  /** Set by workflows. */
  stepId?: string;
  /**
   * @internal Write the result log in the background (still before `mesh.stop()` resolves) instead of before
   * returning. The workflow engine sets it: its own state file already holds the envelope durably, and a
   * dependant should not wait for a log write to start.
   */
  deferLog?: boolean;
  /**
   * @internal Set by workflows: the context keys that hold dependency envelopes. The prompt shows only what code
   * can use of them (`status`, `output`, `error`), once.
   */
  dependencies?: readonly string[];
  /** Called before each repair call, with the failure being repaired (progress displays). */
  onRepair?: (info: { repair: number; errorCategory: string; error: string }) => void;
  /** Called at each retry and failover of the task's model calls, as it happens (progress displays). */
  onLlmEvent?: LlmCallObserver;
}

export interface AgentIdentity {
  agentId: string;
  role: string;
  capabilities: string[];
  systemPrompt: string;
  tools: ReadonlyMap<string, ToolDefinition>;
  /** The agent's output schema, for tasks that do not bring their own. */
  outputSchema?: z.ZodType;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Registry bookkeeping runs off the task's critical path (a locked file write costs milliseconds); the
 * registry makes this process read its own writes, and `mesh.stop()` waits for them. A failed write is
 * reported, not dropped.
 */
function inBackground(runtime: AgentRuntime, what: string, work: Promise<unknown>): void {
  void runtime.track(work.catch((err: unknown) => {
    process.stderr.write(`automesh: ${what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }));
}

export function newResultId(): string {
  // Sortable by time, unique across processes.
  return `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

function cancelledMessage(): string {
  return 'The task was cancelled by the caller.';
}

/** One failed try, as the repair prompt tells it. */
interface Failure {
  code: string | null;
  category: EnvelopeErrorCategory;
  error: string;
  line: number | null;
  logs: string[];
  warning: string | null;
}

function describeHistory(failures: Failure[]): string {
  if (failures.length <= 1) return '';
  const earlier = failures.slice(0, -1).map((f, i) =>
    `Attempt ${i + 1} failed with ${f.category}: ${f.error.split('\n')[0]?.slice(0, 300)}`);
  return `\nEarlier attempts that also failed (do not repeat them):\n${earlier.join('\n')}\n`;
}

function describeLogs(logs: string[]): string {
  if (logs.length === 0) return '(none)';
  const text = logs.join('\n');
  return text.length > 4000 ? `${text.slice(0, 4000)}\n... (cut)` : text;
}

function sumCost(replies: LlmReply[]): number | null {
  let total = 0;
  for (const reply of replies) {
    if (reply.costUsd === null) return null;
    total += reply.costUsd;
  }
  return total;
}

/** The registry lookup a task makes (for tools such as `automesh smoketest` that check what a task would reuse). */
export function registryLookupFor(agent: AgentIdentity, input: Pick<TaskInput, 'task' | 'context' | 'outputSchema'>): LookupInput {
  const outputSchema = outputSchemaFor(input.outputSchema, agent.outputSchema);
  return { role: agent.role, task: input.task, ...dependenciesOf(agent, input.context ?? {}, outputSchema) };
}

function dependenciesOf(agent: AgentIdentity, context: Record<string, unknown>, outputSchema: z.ZodType | undefined): CodeDependencies {
  return codeDependencies({ systemPrompt: agent.systemPrompt, context, tools: agent.tools.values(), outputSchema });
}

function warn(runtime: AgentRuntime, warning: TaskWarning): void {
  if (runtime.warn) runtime.warn(warning);
  else process.stderr.write(`automesh: warning: ${warning.message}\n`);
}

/**
 * Looks up registered code for a task. A damaged record, or a store that cannot be read at all, costs only this
 * lookup: it is reported as a warning and the task generates code instead.
 */
async function lookupRegistered(
  runtime: AgentRuntime, lookup: LookupInput, where: Pick<TaskWarning, 'role' | 'resultId' | 'stepId'>,
): Promise<RegistryEntry | null> {
  const onDamaged = (record: DamagedRecord): void => warn(runtime, {
    kind: 'registry_damaged', record, ...where,
    message: `Registry ${record.kind} ${record.id} is damaged; the lookup for task ${where.resultId} (${where.role}) went on without it. ${record.reason}`,
  });
  try {
    return await runtime.registry.lookup(lookup, { onDamaged });
  } catch (err) {
    warn(runtime, {
      kind: 'registry_unavailable', record: null, ...where,
      message: `The registry lookup for task ${where.resultId} (${where.role}) failed, so the task generates code instead: ${err instanceof Error ? err.message : String(err)}`,
    });
    return null;
  }
}

/** The envelope of a task whose result log could not be stored: a `storage` failure (its code is not registered). */
function storageFailure(envelope: Envelope, err: unknown, logDirectory: string): Envelope {
  const reason = err instanceof Error ? err.message : String(err);
  const registered = envelope.status === 'success' && !envelope.cached ? ' and its code was not registered' : '';
  const before = envelope.status === 'success' ? ' (the code itself had run successfully)'
    : ` (the task had failed with ${envelope.errorCategory}: ${envelope.error})`;
  return {
    ...envelope,
    status: 'failure',
    output: null,
    functionId: envelope.cached ? envelope.functionId : null,
    error: `The task's result could not be stored in the result log (${reason}), so the task is reported as ` +
      `failed${registered}${before}. Check that LOG_DIRECTORY (${logDirectory}) is writable and has free space.`,
    errorCategory: 'storage',
  };
}

/** One execution of code, with its output checked against the output schema in force. */
interface Run {
  result: ExecutionResult;
  ok: boolean;
  category: EnvelopeErrorCategory | null;
  error: string | null;
}

export async function runTask(agent: AgentIdentity, runtime: AgentRuntime, input: TaskInput): Promise<Envelope> {
  const started = performance.now();
  if (typeof input.task !== 'string' || input.task.trim() === '') {
    throw new TypeError(`executeTask needs a non-empty task (a string saying what to do) for agent "${agent.role}".`);
  }
  if (input.id !== undefined && !SAFE_ID.test(input.id)) {
    throw new TypeError(`Task id "${input.id}" is invalid: use letters, digits, ".", "-" or "_" (at most 128).`);
  }
  if (input.context !== undefined && (input.context === null || typeof input.context !== 'object' || Array.isArray(input.context))) {
    throw new TypeError('executeTask context must be a plain object of JSON data.');
  }
  const notJson = input.context === undefined ? null : findNonJsonData(input.context, 'context');
  if (notJson) throw new TypeError(`executeTask for agent "${agent.role}": ${notJson}.`);
  const outputSchema = outputSchemaFor(input.outputSchema, agent.outputSchema);
  const resultId = input.id ?? newResultId();
  const { settings, executor, registry, prompts } = runtime;
  const chain = modelOf(runtime, agent.role);
  const budgets = taskBudgets(settings, chain, `agent "${agent.role}"`, input);
  const signal = input.signal ? AbortSignal.any([input.signal, runtime.stopSignal]) : runtime.stopSignal;
  const context = input.context ?? {};
  const dependencies = dependenciesOf(agent, context, outputSchema);
  const attempts: Attempt[] = [];
  const replies: LlmReply[] = [];
  let final: Run | null = null;
  let code: string | null = null;
  let functionId: string | null = null;
  let cached = false;
  let llmError: string | null = null;
  let budgetError: string | null = null;
  let cancelled = false;
  let lastFailure: Failure | null = null;
  /** Registry bookkeeping of a success, done only once the result is stored (unstored code is never registered). */
  let afterStored: { what: string; write: (stored: Promise<void>) => Promise<unknown> } | null = null;

  const finish = async (): Promise<Envelope> => {
    const success = final?.ok === true;
    const lastReply = replies.at(-1) ?? null;
    const category: EnvelopeErrorCategory | null = success ? null
      : cancelled ? 'cancelled'
        : budgetError !== null ? 'budget'
          : llmError !== null ? 'llm'
            : lastFailure?.category ?? 'runtime';
    const error = success ? null
      : cancelled ? cancelledMessage()
        : budgetError !== null ? (lastFailure ? `${budgetError} The last code failed with ${lastFailure.category}: ${lastFailure.error}` : budgetError)
          : llmError !== null ? (lastFailure ? `${llmError} The last code failed with ${lastFailure.category}: ${lastFailure.error}` : llmError)
          : lastFailure?.error ?? 'The task failed.';
    const envelope: Envelope = {
      status: success ? 'success' : 'failure',
      output: success ? final?.result.output ?? null : null,
      code,
      repairs: Math.max(0, replies.length - 1),
      executionTime: (performance.now() - started) / 1000,
      tokens: replies.reduce((sum, r) => addTokens(sum, r.tokens), { ...ZERO_TOKENS }),
      costUsd: cached && replies.length === 0 ? 0 : sumCost(replies),
      resultId,
      functionId,
      error,
      errorCategory: category,
      attempts,
      cached,
      logs: final?.result.logs ?? [],
      agentId: agent.agentId,
      role: agent.role,
      provider: lastReply?.provider ?? null,
      model: lastReply?.model ?? null,
      ...(input.stepId !== undefined ? { stepId: input.stepId } : {}),
    };
    const saved = runtime.results.save({
      resultId,
      role: agent.role,
      task: input.task,
      createdAt: new Date().toISOString(),
      promptHashes: {
        agentSystemPrompt: dependencies.systemPromptHash,
        systemTemplate: prompts.system.hash,
        codegenTemplate: prompts.codegen.hash,
        repairTemplate: prompts.repair.hash,
        contextShape: dependencies.contextShapeHash,
        tools: dependencies.toolsHash,
        outputSchema: dependencies.outputSchemaHash,
      },
      envelope: envelope as unknown as Record<string, unknown>,
    });
    if (input.deferLog) {
      inBackground(runtime, `writing the result log ${resultId}`, saved);
      if (afterStored) inBackground(runtime, afterStored.what, afterStored.write(saved));
      return envelope;
    }
    try {
      await saved;
    } catch (err) {
      return storageFailure(envelope, err, settings.LOG_DIRECTORY);
    }
    if (afterStored) inBackground(runtime, afterStored.what, afterStored.write(saved));
    return envelope;
  };

  const execute = async (program: string): Promise<Run> => {
    const ran = await executor.execute({ code: program, context, tools: [...agent.tools.values()], signal });
    if (ran.status !== 'success') {
      const category = signal.aborted ? 'cancelled' : (ran.errorCategory ?? 'runtime') as EnvelopeErrorCategory;
      return { result: ran, ok: false, category, error: ran.error ?? 'The code failed.' };
    }
    const mismatch = outputSchema ? outputMismatch(outputSchema, ran.output) : null;
    if (mismatch !== null) return { result: ran, ok: false, category: 'schema', error: mismatch };
    return { result: ran, ok: true, category: null, error: null };
  };

  // 1. Reuse: the registry's code for this very task, with no LLM call.
  if (settings.REGISTRY_REUSE) {
    const where = { role: agent.role, resultId, ...(input.stepId !== undefined ? { stepId: input.stepId } : {}) };
    const entry = await lookupRegistered(runtime, { role: agent.role, task: input.task, ...dependencies }, where);
    if (entry) {
      const ran = await execute(entry.code);
      attempts.push({
        code: entry.code, error: ran.error, errorCategory: ran.category, provider: null, model: null,
        tokens: { ...ZERO_TOKENS }, durationMs: ran.result.durationMs, reply: null, replyTruncated: false,
      });
      if (ran.ok) {
        afterStored = {
          what: `counting a success of registry entry ${entry.id}`,
          write: (stored) => stored.then(() => registry.recordSuccess(entry.id)),
        };
        final = ran;
        code = entry.code;
        functionId = entry.id;
        cached = true;
        return finish();
      }
      // A result that no longer matches the output schema counts as a failure of the entry, like any other.
      inBackground(runtime, `counting a failure of registry entry ${entry.id}`, registry.recordFailure(entry.id, ran.error ?? 'failed'));
      if (signal.aborted) {
        cancelled = true;
        return finish();
      }
      // Fall back to generation; the stored code's failure is not shown to the model as its own.
    }
  }

  // 2. Generate, validate, execute, repair.
  const system = render(prompts.system, {
    systemPrompt: agent.systemPrompt.trim(),
    tools: describeTools(agent.tools.values()),
    context: describeContext(context, input.dependencies),
    output: describeOutputSchema(outputSchema),
  });
  const maxRepairs = settings.MAX_REPAIR_ATTEMPTS;
  const failures: Failure[] = [];
  for (let round = 0; round <= maxRepairs; round++) {
    if (lastFailure !== null) {
      input.onRepair?.({ repair: round, errorCategory: lastFailure.category, error: lastFailure.error });
    }
    const user = lastFailure === null
      ? render(prompts.codegen, { task: input.task.trim() })
      : render(prompts.repair, {
        task: input.task.trim(),
        code: lastFailure.code ?? '(no code was found in your reply)',
        category: lastFailure.category,
        line: lastFailure.line ? `, line ${lastFailure.line}` : '',
        error: lastFailure.warning ? `${lastFailure.error}\n${lastFailure.warning}` : lastFailure.error,
        logs: describeLogs(lastFailure.logs),
        history: describeHistory(failures),
      });
    const askedAt = performance.now();
    const request = { system, messages: [{ role: 'user' as const, content: user }], signal, onEvent: input.onLlmEvent };
    const estimate = chain.estimate(request);
    budgetError = refuseCall(budgets, estimate);
    if (budgetError !== null) {
      attempts.push({
        code: null, error: budgetError, errorCategory: 'budget', provider: estimate.provider, model: estimate.model,
        tokens: { ...ZERO_TOKENS }, durationMs: 0, reply: null, replyTruncated: false,
      });
      return finish();
    }
    let reply: LlmReply;
    try {
      reply = await chain.complete(request);
    } catch (err) {
      if (err instanceof LlmAbortError || signal.aborted) cancelled = true;
      else llmError = err instanceof Error ? err.message : String(err);
      const tried = err instanceof LlmChainError ? err.failures.at(-1) : undefined;
      attempts.push({
        code: null, error: cancelled ? cancelledMessage() : llmError, errorCategory: cancelled ? 'cancelled' : 'llm',
        provider: tried?.provider ?? null, model: tried?.model ?? null, tokens: { ...ZERO_TOKENS }, durationMs: performance.now() - askedAt,
        reply: null, replyTruncated: false,
      });
      return finish();
    }
    replies.push(reply);
    chargeCall(budgets, reply.costUsd, estimate);
    const extracted = extractCode(reply.text);
    let ran: Run | null = null;
    let failure: Failure;
    if (!extracted.ok) {
      failure = { code: null, category: 'syntax', error: extracted.reason, line: null, logs: [], warning: null };
    } else {
      code = extracted.code;
      ran = await execute(extracted.code);
      failure = {
        code: extracted.code,
        category: ran.category ?? 'runtime',
        error: ran.error ?? '',
        line: ran.category === 'schema' ? null : ran.result.errorLine,
        logs: ran.result.logs,
        warning: extracted.warning,
      };
    }
    attempts.push({
      code: extracted.ok ? extracted.code : null,
      error: ran?.ok ? null : failure.error,
      errorCategory: ran?.ok ? null : failure.category,
      provider: reply.provider,
      model: reply.model,
      tokens: reply.tokens,
      ...(reply.tokensEstimated ? { tokensEstimated: true as const } : {}),
      durationMs: performance.now() - askedAt,
      ...boundedReply(reply.text),
    });
    if (ran?.ok) {
      final = ran;
      const registration: RegisterInput = {
        role: agent.role,
        task: input.task,
        ...dependencies,
        capabilities: agent.capabilities,
        code: code as string,
        provenance: { provider: reply.provider, model: reply.model, resultId },
      };
      functionId = CodeRegistry.idFor(registration);
      afterStored = {
        what: `registering function ${functionId}`,
        write: (stored) => registry.register(registration, { after: stored }),
      };
      return finish();
    }
    final = ran;
    lastFailure = failure;
    failures.push(failure);
    if (signal.aborted) {
      cancelled = true;
      return finish();
    }
  }
  return finish();
}
