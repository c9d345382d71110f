/**
 * The AutoAgent pipeline for one task, in named stages (`stages/`): reuse registered code when the registry knows
 * the task; else generate → execute → repair (up to MAX_REPAIR_ATTEMPTS); then record: store the result, and
 * register the code that worked once it is stored. `task-run.ts` holds the task's state between stages.
 *
 * What JarvisCore's AutoAgent got wrong, and this file gets right: the envelope's `code` is the code that
 * succeeded (after repairs) and is what gets registered; `repairs` counts repair calls; tokens and cost
 * are the sums the providers reported; a syntax error is repaired like any failure; code that sets no
 * `result` fails with `no_result`; registered code is reused with no LLM call.
 */
import type { z } from 'zod';
import type { PromptTemplates } from '../codegen/prompts.js';
import type { Settings } from '../config/settings.js';
import type { LlmCallObserver } from '../llm/call-events.js';
import type { CodeModel } from '../llm/code-model.js';
import type { CodeRegistry, LookupInput } from '../registry/index.js';
import type { CodeExecutor } from '../sandbox/executor-contract.js';
import type { ToolDefinition } from '../sandbox/tools.js';
import type { ResultStore } from '../storage/index.js';
import type { Budget } from './budget.js';
import type { Envelope } from './envelope.js';
import { outputSchemaFor } from './output-schema.js';
import type { PeerDescription } from './peer-directory.js';
import { allowedPeersNow, type PeerAccess } from './sandbox-peers.js';
import { generateAndRepair } from './stages/generate.js';
import { recordResult } from './stages/record.js';
import { reuseRegistered } from './stages/reuse.js';
import { dependenciesOf, prepareTask } from './task-run.js';
import type { TaskWarning } from './warning.js';

export { newResultId } from './task-run.js';

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
  /** The peers its generated code may call (`defineAgent({ peers })`), and the client it calls them with. */
  peerAccess?: PeerAccess;
}

/** The registry lookup a task makes (for tools such as `automesh smoketest` that check what a task would reuse). */
export function registryLookupFor(
  agent: AgentIdentity,
  input: Pick<TaskInput, 'task' | 'context' | 'outputSchema'>,
  peers: readonly PeerDescription[] = [],
): LookupInput {
  const outputSchema = outputSchemaFor(input.outputSchema, agent.outputSchema);
  return { role: agent.role, task: input.task, ...dependenciesOf(agent, input.context ?? {}, outputSchema, peers) };
}

/** One task through the stages; throws only for programmer errors (a bad input, a budget that cannot be kept). */
export async function runTask(agent: AgentIdentity, runtime: AgentRuntime, input: TaskInput): Promise<Envelope> {
  // Read once per task: the prompt, the registry key and what the code may call all see the same peers.
  const peers = agent.peerAccess ? await allowedPeersNow(agent.peerAccess) : [];
  const run = prepareTask(agent, runtime, input, peers);
  try {
    if (runtime.settings.REGISTRY_REUSE && (await reuseRegistered(run))) return await recordResult(run);
    await generateAndRepair(run);
    return await recordResult(run);
  } finally {
    run.releaseSignal();
  }
}
