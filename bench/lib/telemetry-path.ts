/**
 * The telemetry layers of one task on their own, with the model and the sandbox answering at once: the task scope and
 * span, one attempt span, the model middleware's chat span and metrics, the executor middleware's span and metrics,
 * the task metrics. What they cost in CPU per task, free of the I/O noise a whole task carries; `bare` runs the same
 * calls without any of it.
 */
import type { Envelope } from '../../src/agent/envelope.js';
import { loadSettings } from '../../src/config/settings.js';
import type { CodeModel } from '../../src/llm/code-model.js';
import type { LlmReply, LlmRequest } from '../../src/llm/types.js';
import { unranStepEnvelope } from '../../src/mesh/step-runner.js';
import type { CodeExecutor, ExecutionRequest } from '../../src/sandbox/executor-contract.js';
import type { ExecutionResult } from '../../src/sandbox/types.js';
import { telemetryExecutorMiddleware } from '../../src/telemetry/executor-telemetry.js';
import { MeshMetrics } from '../../src/telemetry/metrics.js';
import { telemetryModelMiddleware } from '../../src/telemetry/model-telemetry.js';
import { observeTask, traceAttempt } from '../../src/telemetry/task-telemetry.js';
import { telemetryFor } from '../../src/telemetry/telemetry.js';

const request: LlmRequest = { system: 'You write JavaScript.', messages: [{ role: 'user', content: 'Sum 1, 2, 3' }] };
const reply: LlmReply = {
  text: 'result = 6;',
  provider: 'vllm',
  model: 'bench-model',
  tokens: { input: 120, output: 20, total: 140 },
  costUsd: 0.0001,
  unpriced: false,
  tokensEstimated: false,
  durationMs: 1,
  finishReason: 'stop',
  failures: [],
  replayed: false,
};
const execution: ExecutionRequest = { code: 'result = 6;' };
const executed: ExecutionResult = {
  status: 'success',
  output: 6,
  logs: [],
  error: null,
  errorCategory: null,
  errorLine: null,
  errorColumn: null,
  durationMs: 1,
  cpuMs: 1,
  heapBytes: 1,
  toolCalls: 0,
};
const envelope: Envelope = {
  ...unranStepEnvelope({ role: 'counter', stepId: 'x' }, 'failure', '', null),
  status: 'success',
  output: 6,
  error: null,
  attempts: [
    {
      code: 'result = 6;',
      error: null,
      errorCategory: null,
      provider: 'vllm',
      model: 'bench-model',
      tokens: reply.tokens,
      durationMs: 1,
      reply: 'r',
      replyTruncated: false,
    },
  ],
};
const model = {
  estimate: () => ({ costUsd: 0.0001, provider: 'vllm', model: 'bench-model', inputTokens: 10, outputTokens: 4096 }),
} as unknown as CodeModel;
const executor = {} as CodeExecutor;

export interface TelemetryPath {
  /** One task's calls with the telemetry layers around them. */
  traced(): Promise<Envelope>;
  /** The same calls with none. */
  bare(): Promise<Envelope>;
}

export function telemetryPath(): TelemetryPath {
  const telemetry = telemetryFor(loadSettings({ envFile: false, env: {} }), new MeshMetrics());
  const generate = telemetryModelMiddleware(telemetry).wrapGenerate as NonNullable<
    ReturnType<typeof telemetryModelMiddleware>['wrapGenerate']
  >;
  const execute = telemetryExecutorMiddleware(telemetry).wrapExecute as NonNullable<
    ReturnType<typeof telemetryExecutorMiddleware>['wrapExecute']
  >;
  const doGenerate = async (): Promise<LlmReply> => reply;
  const doExecute = async (): Promise<ExecutionResult> => executed;
  return {
    traced: () =>
      observeTask({ role: 'counter', task: 'Sum 1, 2, 3' }, telemetry, async () => {
        await traceAttempt(telemetry, 'generate', 1, envelope.attempts, async () => {
          await generate({ request, doGenerate, model });
          await execute({ request: execution, doExecute, executor });
        });
        return envelope;
      }),
    bare: async () => {
      await (async () => {
        await doGenerate();
        await doExecute();
      })();
      return envelope;
    },
  };
}
