/** Claude through the official `@anthropic-ai/sdk` (Messages API). */
import Anthropic from '@anthropic-ai/sdk';
import { classifyStainlessError } from './sdk-errors.js';
import { sumTokenCounts, tokenCount } from './usage.js';
import type { CallOptions, Completion, FinishReason, LlmRequest, Provider } from './types.js';

export interface ClaudeOptions {
  apiKey: string;
  model: string;
  endpoint?: string;
}

function finishOf(stopReason: string | null | undefined): FinishReason {
  if (stopReason === 'end_turn' || stopReason === 'stop_sequence') return 'stop';
  if (stopReason === 'max_tokens' || stopReason === 'model_context_window_exceeded') return 'length';
  if (stopReason === 'refusal') return 'filtered';
  return 'other';
}

export class ClaudeProvider implements Provider {
  readonly name = 'claude' as const;
  readonly model: string;
  readonly endpoint: string;
  private readonly client: Anthropic;

  constructor(options: ClaudeOptions) {
    this.model = options.model;
    this.endpoint = options.endpoint ?? 'https://api.anthropic.com';
    // The chain owns retries and timeouts: the SDK's own are off so tries never multiply.
    this.client = new Anthropic({ apiKey: options.apiKey, baseURL: options.endpoint ?? null, maxRetries: 0 });
  }

  async complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    try {
      const reply = await this.client.messages.create({
        model: this.model,
        max_tokens: options.maxTokens,
        // No temperature: the Messages API of this SDK generation no longer takes one (deprecated upstream).
        ...(request.system ? { system: request.system } : {}),
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      }, { signal: options.signal, timeout: options.timeoutMs, maxRetries: 0 });
      const text = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      const usage = reply.usage;
      return {
        text,
        model: reply.model ?? this.model,
        inputTokens: sumTokenCounts(usage?.input_tokens, usage?.cache_creation_input_tokens, usage?.cache_read_input_tokens),
        outputTokens: tokenCount(usage?.output_tokens),
        finishReason: finishOf(reply.stop_reason),
      };
    } catch (err) {
      throw classifyStainlessError(err, this.name, this.model);
    }
  }
}
