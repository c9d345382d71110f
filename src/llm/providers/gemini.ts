/** Google Gemini through the official `@google/genai` SDK (generateContent), loaded on the first call. */
import type { GoogleGenAI } from '@google/genai';
import { text, url } from '../../config/fields.js';
import { kindOfStatus, ProviderError } from '../errors.js';
import { classifyOther, errorName, messageOf } from '../sdk-errors.js';
import type { CallOptions, Completion, FinishReason, LlmRequest } from '../types.js';
import { sumTokenCounts, tokenCount } from '../usage.js';
import { defineProvider, lazySdk, type ProviderDefinition } from './define.js';
import { SdkProvider } from './sdk-provider.js';

const DEFAULT_MODEL = 'gemini-2.5-flash';
const PUBLIC_ENDPOINT = 'https://generativelanguage.googleapis.com';
const sdk = lazySdk('@google/genai', () => import('@google/genai'));

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

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: Array<Record<string, unknown>> };
}

/** Gemini's RetryInfo `retryDelay` ("1.5s") in milliseconds. */
function retryInfoMs(body: GoogleErrorBody): number | null {
  for (const detail of body.error?.details ?? []) {
    if (String(detail['@type'] ?? '').endsWith('google.rpc.RetryInfo')) {
      const match = /^([\d.]+)s$/.exec(String(detail.retryDelay ?? ''));
      if (match) return Number(match[1]) * 1000;
    }
  }
  return null;
}

/** `@google/genai`'s `ApiError` carries the status, and the JSON error body as its message. */
export function classifyGeminiError(err: unknown, model: string): ProviderError {
  if (err instanceof Error && err.name === 'AbortError')
    return new ProviderError('gemini', model, 'aborted', 'the request was aborted');
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && errorName(err) === 'ApiError') {
    let body: GoogleErrorBody = {};
    try {
      body = JSON.parse(messageOf(err)) as GoogleErrorBody;
    } catch {
      // Not JSON: keep the raw message.
    }
    const message = body.error?.message ?? messageOf(err);
    return new ProviderError('gemini', model, kindOfStatus(status), message.slice(0, 500), status, retryInfoMs(body));
  }
  return classifyOther(err, 'gemini', model);
}

export class GeminiProvider extends SdkProvider<GoogleGenAI> {
  readonly name = 'gemini' as const;

  constructor(private readonly options: GeminiOptions) {
    super(options.model, options.endpoint ?? PUBLIC_ENDPOINT);
  }

  protected connect(): Promise<GoogleGenAI> {
    const { apiKey, endpoint } = this.options;
    // No `retryOptions`: the SDK then makes exactly one try, and the chain owns retries.
    return sdk().then(
      ({ GoogleGenAI: Client }) => new Client({ apiKey, ...(endpoint ? { httpOptions: { baseUrl: endpoint } } : {}) }),
    );
  }

  async complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    try {
      const client = await this.clientOf();
      const reply = await client.models.generateContent({
        model: this.model,
        contents: request.messages.map((m) => ({
          role: m.role === 'assistant' ? 'model' : 'user',
          parts: [{ text: m.content }],
        })),
        config: {
          ...(request.system ? { systemInstruction: request.system } : {}),
          temperature: options.temperature,
          maxOutputTokens: options.maxTokens,
          abortSignal: options.signal,
          httpOptions: { timeout: options.timeoutMs },
        },
      });
      const candidate = reply.candidates?.[0];
      const text = (candidate?.content?.parts ?? []).map((p) => (p.thought ? '' : (p.text ?? ''))).join('');
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
      throw classifyGeminiError(err, this.model);
    }
  }
}

/** Its settings: read under these names (and aliases), secret or not, with their defaults. */
const settings = {
  GEMINI_API_KEY: { schema: text('GEMINI_API_KEY').optional(), secret: true },
  GEMINI_MODEL: { schema: text('GEMINI_MODEL').default(DEFAULT_MODEL), secret: false },
  GEMINI_ENDPOINT: { schema: url('GEMINI_ENDPOINT').optional(), secret: false },
};

// Typed by annotation, not by its initializer: the provider names are derived from these types (./index.ts).
export const gemini: ProviderDefinition<'gemini', typeof settings> = defineProvider({
  name: 'gemini',
  label: 'Google Gemini',
  aliases: ['google'],
  settings,
  required: ['GEMINI_API_KEY'],
  keySetting: 'GEMINI_API_KEY',
  modelSetting: 'GEMINI_MODEL',
  endpointSetting: 'GEMINI_ENDPOINT',
  defaultModel: DEFAULT_MODEL,
  publicEndpoint: PUBLIC_ENDPOINT,
  selfHosted: false,
  endpointPathProblem: (path) =>
    /\/v1(alpha|beta)?$/.test(path)
      ? `GEMINI_ENDPOINT ends in ${path.slice(path.lastIndexOf('/'))}, and the SDK adds the API version itself: set it to the base URL without it (or unset it for the public API)`
      : null,
  // Gemini answers a bad key with 400 INVALID_ARGUMENT "API key not valid", not 401.
  refusedKey: /API key not valid|API_KEY_INVALID/i,
  classifyError: classifyGeminiError,
  create: (s) =>
    new GeminiProvider({ apiKey: s.GEMINI_API_KEY as string, model: s.GEMINI_MODEL, endpoint: s.GEMINI_ENDPOINT }),
});
