/**
 * The state of one task as it goes through the pipeline's stages (`pipeline.ts`): what it was asked, what it has
 * spent and tried, and how it ended. `prepareTask` checks the input and builds it; `executeCode` is the one way a
 * stage runs code.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { findNonJsonData } from '../codegen/json-data.js';
import { anyAbort } from '../core/abort.js';
import type { ErrorCategory } from '../core/error-categories.js';
import type { CodeModel } from '../llm/code-model.js';
import type { LlmReply } from '../llm/types.js';
import { type CodeDependencies, codeDependencies } from '../registry/index.js';
import type { ToolDefinition } from '../sandbox/tools.js';
import type { ExecutionResult } from '../sandbox/types.js';
import { modelOf } from './agent-llm.js';
import { type Budget, taskBudgets } from './budget.js';
import type { Attempt } from './envelope.js';
import { outputMismatch, outputSchemaFor } from './output-schema.js';
import type { PeerDescription } from './peer-directory.js';
import type { AgentIdentity, AgentRuntime, TaskInput } from './pipeline.js';
import type { Failure } from './repair-prompt.js';
import { sandboxPeerTools } from './sandbox-peers.js';
import { checkedSession, currentSession } from './session.js';
import type { TaskWarning } from './warning.js';

/** One execution of code, with its output checked against the output schema in force. */
export interface Run {
  result: ExecutionResult;
  ok: boolean;
  category: ErrorCategory | null;
  error: string | null;
}

/** Why a task ended other than by its code's last failure. */
export interface Stop {
  category: 'llm' | 'budget' | 'cancelled';
  error: string;
}

export interface TaskRun {
  readonly agent: AgentIdentity;
  readonly runtime: AgentRuntime;
  readonly input: TaskInput;
  /** `performance.now()` when the task started. */
  readonly started: number;
  readonly resultId: string;
  readonly model: CodeModel;
  readonly budgets: Budget[];
  /** The task's signal joined with the mesh's stop signal. */
  readonly signal: AbortSignal;
  /** Stops following the task's and the mesh's signals: called once the task has ended. */
  readonly releaseSignal: () => void;
  readonly context: Record<string, unknown>;
  readonly outputSchema: z.ZodType | undefined;
  readonly dependencies: CodeDependencies;
  /** What the code may call: the agent's tools, and `peers.ask` / `peers.list` when it allows peers. */
  readonly tools: readonly ToolDefinition[];
  /** The allowed peers on the mesh when the task started (what the prompt describes); null when it allows none. */
  readonly peers: readonly PeerDescription[] | null;
  readonly attempts: Attempt[];
  /** Every model reply, in order. */
  readonly replies: LlmReply[];
  /** Every failed try of generated code, in order (the registry's code is not among them). */
  readonly failures: Failure[];
  /** The last execution (null when the last reply held no code). */
  final: Run | null;
  code: string | null;
  functionId: string | null;
  cached: boolean;
  stop: Stop | null;
  /** Registry bookkeeping of a success, done only once the result is stored (unstored code is never registered). */
  afterStored: { what: string; write: (stored: Promise<void>) => Promise<unknown> } | null;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function newResultId(): string {
  // Sortable by time, unique across processes: 40 random bits. A UUID's first ten hex digits are random, and
  // randomUUID draws from a pool where randomBytes makes a system call each time.
  const random = randomUUID();
  return `${Date.now().toString(36)}-${random.slice(0, 8)}${random.slice(9, 11)}`;
}

export const CANCELLED_MESSAGE = 'The task was cancelled by the caller.';

export function dependenciesOf(
  agent: AgentIdentity,
  context: Record<string, unknown>,
  outputSchema: z.ZodType | undefined,
  peers: readonly PeerDescription[] = [],
): CodeDependencies {
  return codeDependencies({
    systemPrompt: agent.systemPrompt,
    context,
    tools: agent.tools.values(),
    outputSchema,
    peers,
  });
}

/** Throws a TypeError for a programmer's mistake in the input, before anything of the task runs. */
function checkInput(agent: AgentIdentity, input: TaskInput): void {
  if (typeof input.task !== 'string' || input.task.trim() === '') {
    throw new TypeError(`executeTask needs a non-empty task (a string saying what to do) for agent "${agent.role}".`);
  }
  if (input.id !== undefined && !SAFE_ID.test(input.id)) {
    throw new TypeError(`Task id "${input.id}" is invalid: use letters, digits, ".", "-" or "_" (at most 128).`);
  }
  if (
    input.context !== undefined
    && (input.context === null || typeof input.context !== 'object' || Array.isArray(input.context))
  ) {
    throw new TypeError('executeTask context must be a plain object of JSON data.');
  }
  const notJson = input.context === undefined ? null : findNonJsonData(input.context, 'context');
  if (notJson) throw new TypeError(`executeTask for agent "${agent.role}": ${notJson}.`);
}

/**
 * The task's state before its first stage; throws for a bad input or a budget that cannot be kept. `peers`: the
 * allowed peers on the mesh now (for an agent that allows peers).
 */
export function prepareTask(
  agent: AgentIdentity,
  runtime: AgentRuntime,
  input: TaskInput,
  peers: readonly PeerDescription[] = [],
): TaskRun {
  const started = performance.now();
  checkInput(agent, input);
  const outputSchema = outputSchemaFor(input.outputSchema, agent.outputSchema);
  const model = modelOf(runtime, agent.role);
  const context = input.context ?? {};
  const joined = input.signal ? anyAbort([input.signal, runtime.stopSignal]) : null;
  const signal = joined?.signal ?? runtime.stopSignal;
  return {
    agent,
    runtime,
    input,
    started,
    outputSchema,
    model,
    context,
    resultId: input.id ?? newResultId(),
    budgets: taskBudgets(runtime.settings, model, `agent "${agent.role}"`, input),
    signal,
    releaseSignal: joined?.release ?? (() => undefined),
    dependencies: dependenciesOf(agent, context, outputSchema, peers),
    tools: toolsOf(agent, runtime, signal),
    peers: agent.peerAccess ? peers : null,
    attempts: [],
    replies: [],
    failures: [],
    final: null,
    code: null,
    functionId: null,
    cached: false,
    stop: null,
    afterStored: null,
  };
}

/**
 * The agent's tools, plus its peers when it allows some: their calls carry the session this task runs in (a new
 * one when it runs in none), and last no longer than an execution may.
 */
function toolsOf(agent: AgentIdentity, runtime: AgentRuntime, signal: AbortSignal): ToolDefinition[] {
  const tools = [...agent.tools.values()];
  if (!agent.peerAccess) return tools;
  const session = currentSession() ?? checkedSession({}, agent.role);
  const timeoutMs = Math.max(1, Math.round(runtime.settings.EXECUTION_TIMEOUT * 1000));
  return [...tools, ...sandboxPeerTools(agent.peerAccess, { agent: agent.role, session, timeoutMs, signal })];
}

/** Runs `program` with the task's context, tools and signal; a failure after the signal fired is `cancelled`. */
export async function executeCode(run: TaskRun, program: string): Promise<Run> {
  const { signal, outputSchema } = run;
  const ran = await run.runtime.executor.execute({
    code: program,
    context: run.context,
    tools: [...run.tools],
    signal,
  });
  if (ran.status !== 'success') {
    const category: ErrorCategory = signal.aborted ? 'cancelled' : (ran.errorCategory ?? 'runtime');
    return { result: ran, ok: false, category, error: ran.error ?? 'The code failed.' };
  }
  const mismatch = outputSchema ? outputMismatch(outputSchema, ran.output) : null;
  if (mismatch !== null) return { result: ran, ok: false, category: 'schema', error: mismatch };
  return { result: ran, ok: true, category: null, error: null };
}

/**
 * Registry bookkeeping runs off the task's critical path (a locked file write costs milliseconds); the
 * registry makes this process read its own writes, and `mesh.stop()` waits for them. A failed write is
 * reported, not dropped.
 */
export function inBackground(runtime: AgentRuntime, what: string, work: Promise<unknown>): void {
  void runtime.track(
    work.catch((err: unknown) => {
      process.stderr.write(`automesh: ${what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }),
  );
}

export function warn(runtime: AgentRuntime, warning: TaskWarning): void {
  if (runtime.warn) runtime.warn(warning);
  else process.stderr.write(`automesh: warning: ${warning.message}\n`);
}
