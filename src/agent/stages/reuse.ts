/**
 * Stage 1, reuse: run the registry's code for this very task, with no model call. A damaged record, or a store that
 * cannot be read at all, costs only the lookup (a warning); code that no longer works counts a failure of its entry
 * and the task goes on to generate code.
 */
import type { DamagedRecord, LookupInput, RegistryEntry } from '../../registry/index.js';
import { traceAttempt } from '../../telemetry/task-telemetry.js';
import { ZERO_TOKENS } from '../envelope.js';
import type { AgentRuntime } from '../pipeline.js';
import { CANCELLED_MESSAGE, executeCode, inBackground, type TaskRun, warn } from '../task-run.js';
import type { TaskWarning } from '../warning.js';

async function lookupRegistered(
  runtime: AgentRuntime,
  lookup: LookupInput,
  where: Pick<TaskWarning, 'role' | 'resultId' | 'stepId'>,
): Promise<RegistryEntry | null> {
  const onDamaged = (record: DamagedRecord): void =>
    warn(runtime, {
      kind: 'registry_damaged',
      record,
      ...where,
      message: `Registry ${record.kind} ${record.id} is damaged; the lookup for task ${where.resultId} (${where.role}) went on without it. ${record.reason}`,
    });
  try {
    return await runtime.registry.lookup(lookup, { onDamaged });
  } catch (err) {
    warn(runtime, {
      kind: 'registry_unavailable',
      record: null,
      ...where,
      message: `The registry lookup for task ${where.resultId} (${where.role}) failed, so the task generates code instead: ${err instanceof Error ? err.message : String(err)}`,
    });
    return null;
  }
}

/** True when the task is done: the registered code worked, or the task was cancelled while it ran. */
export async function reuseRegistered(run: TaskRun): Promise<boolean> {
  const { agent, runtime, input, resultId } = run;
  const where = { role: agent.role, resultId, ...(input.stepId !== undefined ? { stepId: input.stepId } : {}) };
  const entry = await lookupRegistered(runtime, { role: agent.role, task: input.task, ...run.dependencies }, where);
  if (!entry) return false;
  const ran = await traceAttempt(runtime.telemetry, 'registry', 1, run.attempts, async () => {
    const ran = await executeCode(run, entry.code);
    run.attempts.push({
      code: entry.code,
      error: ran.error,
      errorCategory: ran.category,
      provider: null,
      model: null,
      tokens: { ...ZERO_TOKENS },
      durationMs: ran.result.durationMs,
      reply: null,
      replyTruncated: false,
    });
    return ran;
  });
  if (ran.ok) {
    run.afterStored = {
      what: `counting a success of registry entry ${entry.id}`,
      write: (stored) => stored.then(() => runtime.registry.recordSuccess(entry.id)),
    };
    run.final = ran;
    run.code = entry.code;
    run.functionId = entry.id;
    run.cached = true;
    return true;
  }
  // A result that no longer matches the output schema counts as a failure of the entry, like any other.
  inBackground(
    runtime,
    `counting a failure of registry entry ${entry.id}`,
    runtime.registry.recordFailure(entry.id, ran.error ?? 'failed'),
  );
  if (run.signal.aborted) {
    run.stop = { category: 'cancelled', error: CANCELLED_MESSAGE };
    return true;
  }
  // Fall back to generation; the stored code's failure is not shown to the model as its own.
  return false;
}
