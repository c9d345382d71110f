/**
 * Stage 3, record: the envelope of the task, stored in the result log; then the registry bookkeeping of a success
 * (registration, or a registry hit's success count), which is made only once the result is stored. A result that
 * could not be stored makes the task a `storage` failure. With `deferLog` (workflows) the write runs in the
 * background.
 */
import type { LlmReply } from '../../llm/types.js';
import { addTokens, type Envelope, type EnvelopeErrorCategory, ZERO_TOKENS } from '../envelope.js';
import { inBackground, type TaskRun } from '../task-run.js';

function sumCost(replies: readonly LlmReply[]): number | null {
  let total = 0;
  for (const reply of replies) {
    if (reply.costUsd === null) return null;
    total += reply.costUsd;
  }
  return total;
}

/** Why the task failed: how it stopped, else its last failure's category and error. */
function failureOf(run: TaskRun): { category: EnvelopeErrorCategory; error: string } {
  const last = run.failures.at(-1);
  const { stop } = run;
  if (stop?.category === 'cancelled') return stop;
  if (stop)
    return {
      category: stop.category,
      error: last ? `${stop.error} The last code failed with ${last.category}: ${last.error}` : stop.error,
    };
  return { category: last?.category ?? 'runtime', error: last?.error ?? 'The task failed.' };
}

export function envelopeOf(run: TaskRun): Envelope {
  const { agent, input, replies, final } = run;
  const success = final?.ok === true;
  const lastReply = replies.at(-1) ?? null;
  const failure = success ? null : failureOf(run);
  return {
    status: success ? 'success' : 'failure',
    output: success ? (final?.result.output ?? null) : null,
    code: run.code,
    repairs: Math.max(0, replies.length - 1),
    executionTime: (performance.now() - run.started) / 1000,
    tokens: replies.reduce((sum, r) => addTokens(sum, r.tokens), { ...ZERO_TOKENS }),
    costUsd: run.cached && replies.length === 0 ? 0 : sumCost(replies),
    resultId: run.resultId,
    functionId: run.functionId,
    error: failure?.error ?? null,
    errorCategory: failure?.category ?? null,
    attempts: run.attempts,
    cached: run.cached,
    logs: final?.result.logs ?? [],
    agentId: agent.agentId,
    role: agent.role,
    provider: lastReply?.provider ?? null,
    model: lastReply?.model ?? null,
    ...(input.stepId !== undefined ? { stepId: input.stepId } : {}),
  };
}

/** The envelope of a task whose result log could not be stored: a `storage` failure (its code is not registered). */
function storageFailure(envelope: Envelope, err: unknown, logDirectory: string): Envelope {
  const reason = err instanceof Error ? err.message : String(err);
  const registered = envelope.status === 'success' && !envelope.cached ? ' and its code was not registered' : '';
  const before =
    envelope.status === 'success'
      ? ' (the code itself had run successfully)'
      : ` (the task had failed with ${envelope.errorCategory}: ${envelope.error})`;
  return {
    ...envelope,
    status: 'failure',
    output: null,
    functionId: envelope.cached ? envelope.functionId : null,
    error:
      `The task's result could not be stored in the result log (${reason}), so the task is reported as `
      + `failed${registered}${before}. Check that LOG_DIRECTORY (${logDirectory}) is writable and has free space.`,
    errorCategory: 'storage',
  };
}

export async function recordResult(run: TaskRun): Promise<Envelope> {
  const { agent, runtime, input, resultId, dependencies, afterStored } = run;
  const envelope = envelopeOf(run);
  const { prompts } = runtime;
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
    return storageFailure(envelope, err, runtime.settings.LOG_DIRECTORY);
  }
  if (afterStored) inBackground(runtime, afterStored.what, afterStored.write(saved));
  return envelope;
}
