/**
 * Chat Completions calls shared by the vLLM (OpenAI-compatible) and Azure OpenAI providers, through the
 * official `openai` SDK, loaded on the first call.
 */
import type OpenAI from 'openai';
import { classifyStainlessError } from '../sdk-errors.js';
import type { CallOptions, Completion, FinishReason, LlmRequest, ProviderName } from '../types.js';
import { tokenCount } from '../usage.js';
import { lazySdk } from './define.js';

export const openaiSdk = lazySdk('openai', () => import('openai'));

function finishOf(reason: string | null | undefined): FinishReason {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'filtered';
  return 'other';
}

/** One Chat Completions call; `client` is awaited inside, so a failed SDK load is classified like any failure. */
export async function chatComplete(
  client: () => Promise<OpenAI>,
  provider: ProviderName,
  model: string,
  request: LlmRequest,
  options: CallOptions,
): Promise<Completion> {
  try {
    const reply = await (await client()).chat.completions.create(
      {
        model,
        temperature: options.temperature,
        max_tokens: options.maxTokens,
        messages: [
          ...(request.system ? [{ role: 'system' as const, content: request.system }] : []),
          ...request.messages.map((m) => ({ role: m.role, content: m.content })),
        ],
      },
      { signal: options.signal, timeout: options.timeoutMs, maxRetries: 0 },
    );
    const choice = reply.choices?.[0];
    return {
      text: choice?.message?.content ?? '',
      model: reply.model || model,
      inputTokens: tokenCount(reply.usage?.prompt_tokens),
      outputTokens: tokenCount(reply.usage?.completion_tokens),
      finishReason: finishOf(choice?.finish_reason),
    };
  } catch (err) {
    throw classifyStainlessError(err, provider, model);
  }
}
