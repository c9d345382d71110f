/** Google Gemini through the official `@google/genai` SDK (generateContent). */
import { GoogleGenAI } from '@google/genai';
import { classifyGeminiError } from './sdk-errors.js';
import { sumTokenCounts, tokenCount } from './usage.js';
import type { CallOptions, Completion, FinishReason, LlmRequest, Provider } from './types.js';

export interface GeminiOptions {
  apiKey: string;
  model: string;
  endpoint?: string;
}

function finishOf(reason: string | undefined): FinishReason {
  if (reason === 'STOP') return 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason && /SAFETY|RECITATION|BLOCKLIST|PROHIBITED|SPII/.test(reason)) return 'filtered';
  return 'other';
}

export class GeminiProvider implements Provider {
  readonly name = 'gemini' as const;
  readonly model: string;
  readonly endpoint: string;
  private readonly client: GoogleGenAI;

  constructor(options: GeminiOptions) {
    this.model = options.model;
    this.endpoint = options.endpoint ?? 'https://generativelanguage.googleapis.com';
    // No `retryOptions`: the SDK then makes exactly one try, and the chain owns retries.
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      ...(options.endpoint ? { httpOptions: { baseUrl: options.endpoint } } : {}),
    });
  }

  async complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    try {
      const reply = await this.client.models.generateContent({
        model: this.model,
        contents: request.messages.map((m) => ({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text: m.content }] })),
        config: {
          ...(request.system ? { systemInstruction: request.system } : {}),
          temperature: options.temperature,
          maxOutputTokens: options.maxTokens,
          abortSignal: options.signal,
          httpOptions: { timeout: options.timeoutMs },
        },
      });
      const candidate = reply.candidates?.[0];
      const text = (candidate?.content?.parts ?? []).map((p) => (p.thought ? '' : p.text ?? '')).join('');
      const usage = reply.usageMetadata;
      return {
        text,
        model: reply.modelVersion ?? this.model,
        inputTokens: tokenCount(usage?.promptTokenCount),
        // Thinking tokens are billed as output.
        outputTokens: sumTokenCounts(usage?.candidatesTokenCount, usage?.thoughtsTokenCount),
        finishReason: finishOf(candidate?.finishReason),
      };
    } catch (err) {
      throw classifyGeminiError(err, this.name, this.model);
    }
  }
}
