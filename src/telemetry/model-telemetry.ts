/**
 * The LLM call's span (GenAI semantic conventions: `chat {model}`, `gen_ai.*` attributes) and metrics, as model
 * middleware: innermost of the mesh's, so a user's middleware that answers from a cache makes no call here.
 */
import { type Attributes, type Span, SpanKind } from '@opentelemetry/api';
import type { LlmCallEvent } from '../llm/call-events.js';
import type { CodeModel } from '../llm/code-model.js';
import type { ModelMiddleware } from '../llm/model-middleware.js';
import type { LlmReply, LlmRequest } from '../llm/types.js';
import { NONE } from './metrics.js';
import { inSpan, tracingOff } from './spans.js';
import type { Telemetry } from './telemetry.js';

/** automesh's provider names as the GenAI conventions' `gen_ai.system` values. */
const GEN_AI_SYSTEM: Readonly<Record<string, string>> = {
  claude: 'anthropic',
  azure: 'az.ai.openai',
  gemini: 'gcp.gemini',
  vllm: 'vllm',
};

export function genAiSystem(provider: string): string {
  return GEN_AI_SYSTEM[provider] ?? provider;
}

function requestAttributes(request: LlmRequest, provider: string | null, model: string | null): Attributes {
  return {
    'gen_ai.operation.name': 'chat',
    ...(provider ? { 'gen_ai.system': genAiSystem(provider), 'automesh.provider': provider } : {}),
    ...(model ? { 'gen_ai.request.model': model } : {}),
    ...(request.maxTokens !== undefined ? { 'gen_ai.request.max_tokens': request.maxTokens } : {}),
    ...(request.temperature !== undefined ? { 'gen_ai.request.temperature': request.temperature } : {}),
  };
}

function describeReply(span: Span, reply: LlmReply, telemetry: Telemetry): void {
  span.setAttributes({
    'gen_ai.system': genAiSystem(reply.provider),
    'automesh.provider': reply.provider,
    'gen_ai.response.model': reply.model,
    'gen_ai.response.finish_reasons': [reply.finishReason],
    'gen_ai.usage.input_tokens': reply.tokens.input,
    'gen_ai.usage.output_tokens': reply.tokens.output,
    'automesh.llm.failed_tries': reply.failures.length,
    'automesh.llm.replayed': reply.replayed,
    'automesh.tokens_estimated': reply.tokensEstimated,
  });
  if (reply.costUsd !== null) span.setAttribute('automesh.cost_usd', reply.costUsd);
  const output = telemetry.content(reply.text);
  if (output !== null)
    span.setAttribute('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', content: output }]));
}

function recordPrompt(span: Span, request: LlmRequest, telemetry: Telemetry): void {
  const system = telemetry.content(request.system);
  if (system === null) return;
  span.setAttribute('gen_ai.system_instructions', system);
  const messages = request.messages.map((m) => ({ role: m.role, content: telemetry.content(m.content) }));
  span.setAttribute('gen_ai.input.messages', JSON.stringify(messages));
}

function noteEvent(span: Span, event: LlmCallEvent): void {
  span.addEvent(`automesh.llm.${event.kind}`, {
    'automesh.provider': event.provider,
    'gen_ai.request.model': event.model,
    'automesh.llm.attempt': event.attempt,
    'error.type': event.errorKind,
    ...(event.next ? { 'automesh.llm.next_provider': event.next } : {}),
  });
}

/**
 * Makes the call, counting it in the metrics: its reply or failure, and each retry and failover (`noted` also puts
 * them on the span).
 */
async function countCall(
  telemetry: Telemetry,
  request: LlmRequest,
  doGenerate: (request: LlmRequest) => Promise<LlmReply>,
  model: CodeModel,
  noted?: (event: LlmCallEvent) => void,
): Promise<LlmReply> {
  const { metrics } = telemetry;
  const onEvent = request.onEvent;
  const observed: LlmRequest = {
    ...request,
    onEvent: (event) => {
      metrics.llmEvent(event);
      noted?.(event);
      onEvent?.(event);
    },
  };
  const started = performance.now();
  try {
    const reply = await doGenerate(observed);
    metrics.llmReplied(reply, request.agent ?? NONE, (performance.now() - started) / 1000);
    return reply;
  } catch (err) {
    const seconds = (performance.now() - started) / 1000;
    const planned = model.estimate(request);
    metrics.llmFailed(planned.provider ?? NONE, planned.model ?? NONE, seconds);
    throw err;
  }
}

export function telemetryModelMiddleware(telemetry: Telemetry): ModelMiddleware {
  return {
    wrapGenerate: ({ request, doGenerate, model }) => {
      // No SDK: a span would record nothing, so the call is only counted.
      if (tracingOff()) return countCall(telemetry, request, doGenerate, model);
      const planned = model.estimate(request);
      // The span is active during the call: HTTP spans of a user's instrumentation nest under it.
      return inSpan(
        `chat ${planned.model ?? 'unknown'}`,
        { kind: SpanKind.CLIENT },
        (span) => {
          if (!span.isRecording()) return countCall(telemetry, request, doGenerate, model);
          span.setAttributes(requestAttributes(request, planned.provider, planned.model));
          recordPrompt(span, request, telemetry);
          return countCall(telemetry, request, doGenerate, model, (event) => noteEvent(span, event));
        },
        (span, reply) => describeReply(span, reply, telemetry),
      );
    },
  };
}
