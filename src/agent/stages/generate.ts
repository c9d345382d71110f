/**
 * Stage 2, generate and repair: ask the model for code, run it, and while it fails with a repairable category
 * (`core/error-categories.ts`) show the model the failure and ask again, up to MAX_REPAIR_ATTEMPTS repair calls.
 * Before each call the budgets are asked; a call they cannot pay is not made.
 */
import { extractCode } from '../../codegen/extract.js';
import { isRepairable } from '../../core/error-categories.js';
import { isAutomeshError } from '../../core/errors.js';
import type { LlmChainError } from '../../llm/errors.js';
import type { LlmReply, LlmRequest } from '../../llm/types.js';
import { CodeRegistry, type RegisterInput } from '../../registry/index.js';
import { traceAttempt } from '../../telemetry/task-telemetry.js';
import { chargeCall, refuseCall } from '../budget.js';
import { ZERO_TOKENS } from '../envelope.js';
import { describeOutputSchema } from '../output-schema.js';
import { type Failure, systemMessage, userMessage } from '../repair-prompt.js';
import { boundedReply } from '../reply.js';
import { describeSandboxPeers } from '../sandbox-peers.js';
import { CANCELLED_MESSAGE, executeCode, type Run, type TaskRun } from '../task-run.js';

/** One model call for `user`; null when the task stops instead (budget, every provider failed, cancelled). */
async function askModel(
  run: TaskRun,
  system: string,
  user: string,
): Promise<{ reply: LlmReply; askedAt: number } | null> {
  const askedAt = performance.now();
  const request: LlmRequest = {
    system,
    messages: [{ role: 'user', content: user }],
    signal: run.signal,
    onEvent: run.input.onLlmEvent,
    agent: run.agent.role,
  };
  const estimate = run.model.estimate(request);
  const refused = refuseCall(run.budgets, estimate);
  if (refused !== null) {
    run.stop = { category: 'budget', error: refused };
    run.attempts.push({
      code: null,
      error: refused,
      errorCategory: 'budget',
      provider: estimate.provider,
      model: estimate.model,
      tokens: { ...ZERO_TOKENS },
      durationMs: 0,
      reply: null,
      replyTruncated: false,
    });
    return null;
  }
  let reply: LlmReply;
  try {
    reply = await run.model.complete(request);
  } catch (err) {
    run.stop =
      isAutomeshError(err, 'cancelled') || run.signal.aborted
        ? { category: 'cancelled', error: CANCELLED_MESSAGE }
        : { category: 'llm', error: err instanceof Error ? err.message : String(err) };
    const tried = isAutomeshError(err, 'llm-failed') ? (err as LlmChainError).failures.at(-1) : undefined;
    run.attempts.push({
      code: null,
      error: run.stop.error,
      errorCategory: run.stop.category,
      provider: tried?.provider ?? null,
      model: tried?.model ?? null,
      tokens: { ...ZERO_TOKENS },
      durationMs: performance.now() - askedAt,
      reply: null,
      replyTruncated: false,
    });
    return null;
  }
  run.replies.push(reply);
  chargeCall(run.budgets, reply.costUsd, estimate);
  return { reply, askedAt };
}

/** Runs the reply's code; the failure to repair, or null when the code worked (then it is the task's result). */
async function tryReply(run: TaskRun, reply: LlmReply, askedAt: number): Promise<Failure | null> {
  const extracted = extractCode(reply.text);
  let ran: Run | null = null;
  let failure: Failure;
  if (!extracted.ok) {
    failure = { code: null, category: 'syntax', error: extracted.reason, line: null, logs: [], warning: null };
  } else {
    run.code = extracted.code;
    ran = await executeCode(run, extracted.code);
    failure = {
      code: extracted.code,
      category: ran.category ?? 'runtime',
      error: ran.error ?? '',
      line: ran.category === 'schema' ? null : ran.result.errorLine,
      logs: ran.result.logs,
      warning: extracted.warning,
    };
  }
  run.attempts.push({
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
  run.final = ran;
  if (ran?.ok) {
    registerOnceStored(run, reply);
    return null;
  }
  run.failures.push(failure);
  return failure;
}

/** The code that worked is registered (the repaired one, not the first), once the result log holding it is stored. */
function registerOnceStored(run: TaskRun, reply: LlmReply): void {
  const { agent, input, resultId } = run;
  const registration: RegisterInput = {
    role: agent.role,
    task: input.task,
    ...run.dependencies,
    capabilities: agent.capabilities,
    code: run.code as string,
    provenance: { provider: reply.provider, model: reply.model, resultId },
  };
  run.functionId = CodeRegistry.idFor(registration);
  run.afterStored = {
    what: `registering function ${run.functionId}`,
    write: (stored) => run.runtime.registry.register(registration, { after: stored }),
  };
}

export async function generateAndRepair(run: TaskRun): Promise<void> {
  const { agent, runtime, input } = run;
  const system = systemMessage(runtime.prompts, {
    systemPrompt: agent.systemPrompt,
    tools: agent.tools.values(),
    peers: agent.peerAccess && run.peers ? describeSandboxPeers(agent.peerAccess, run.peers) : null,
    context: run.context,
    dependencies: input.dependencies,
    output: describeOutputSchema(run.outputSchema),
  });
  const maxRepairs = runtime.settings.MAX_REPAIR_ATTEMPTS;
  for (let round = 0; round <= maxRepairs; round++) {
    const last = run.failures.at(-1);
    if (last) input.onRepair?.({ repair: round, errorCategory: last.category, error: last.error });
    const user = userMessage(runtime.prompts, input.task, run.failures);
    const failure = await traceAttempt(
      runtime.telemetry,
      round === 0 ? 'generate' : 'repair',
      round + 1,
      run.attempts,
      async () => {
        const asked = await askModel(run, system, user);
        return asked ? tryReply(run, asked.reply, asked.askedAt) : null;
      },
    );
    if (!failure) return;
    if (run.signal.aborted) {
      run.stop = { category: 'cancelled', error: CANCELLED_MESSAGE };
      return;
    }
    if (!isRepairable(failure.category)) return;
  }
}
