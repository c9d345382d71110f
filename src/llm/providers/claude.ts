/** Claude through the official `@anthropic-ai/sdk` (Messages API), loaded on the first call. */
import type Anthropic from '@anthropic-ai/sdk';
import { text, url } from '../../config/fields.js';
import { classifyStainlessError } from '../sdk-errors.js';
import type { CallOptions, Completion, FinishReason, LlmRequest } from '../types.js';
import { sumTokenCounts, tokenCount } from '../usage.js';
import { defineProvider, lazySdk, type ProviderDefinition } from './define.js';
import { SdkProvider } from './sdk-provider.js';

const DEFAULT_MODEL = 'claude-sonnet-4-6';
const PUBLIC_ENDPOINT = 'https://api.anthropic.com';
const sdk = lazySdk('@anthropic-ai/sdk', () => import('@anthropic-ai/sdk'));

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

export class ClaudeProvider extends SdkProvider<Anthropic> {
  readonly name = 'claude' as const;

  constructor(private readonly options: ClaudeOptions) {
    super(options.model, options.endpoint ?? PUBLIC_ENDPOINT);
  }

  protected connect(): Promise<Anthropic> {
    // The chain owns retries and timeouts: the SDK's own are off so tries never multiply.
    return sdk().then(
      ({ default: Client }) =>
        new Client({ apiKey: this.options.apiKey, baseURL: this.options.endpoint ?? null, maxRetries: 0 }),
    );
  }

  async complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    try {
      const client = await this.clientOf();
      const reply = await client.messages.create(
        {
          model: this.model,
          max_tokens: options.maxTokens,
          // No temperature: the Messages API of this SDK generation no longer takes one (deprecated upstream).
          ...(request.system ? { system: request.system } : {}),
          messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        },
        { signal: options.signal, timeout: options.timeoutMs, maxRetries: 0 },
      );
      const text = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      const usage = reply.usage;
      return {
        text,
        model: reply.model ?? this.model,
        inputTokens: sumTokenCounts(
          usage?.input_tokens,
          usage?.cache_creation_input_tokens,
          usage?.cache_read_input_tokens,
        ),
        outputTokens: tokenCount(usage?.output_tokens),
        finishReason: finishOf(reply.stop_reason),
      };
    } catch (err) {
      throw claude.classifyError(err, this.model);
    }
  }
}

/** Its settings: read under these names (and aliases), secret or not, with their defaults. */
const settings = {
  CLAUDE_API_KEY: { schema: text('CLAUDE_API_KEY').optional(), secret: true, aliases: ['ANTHROPIC_API_KEY'] },
  CLAUDE_MODEL: { schema: text('CLAUDE_MODEL').default(DEFAULT_MODEL), secret: false },
  CLAUDE_ENDPOINT: { schema: url('CLAUDE_ENDPOINT').optional(), secret: false },
};

// Typed by annotation, not by its initializer: the provider names are derived from these types (./index.ts).
export const claude: ProviderDefinition<'claude', typeof settings> = defineProvider({
  name: 'claude',
  label: 'Claude (Anthropic)',
  aliases: ['anthropic'],
  settings,
  required: ['CLAUDE_API_KEY'],
  keySetting: 'CLAUDE_API_KEY',
  modelSetting: 'CLAUDE_MODEL',
  endpointSetting: 'CLAUDE_ENDPOINT',
  defaultModel: DEFAULT_MODEL,
  publicEndpoint: PUBLIC_ENDPOINT,
  selfHosted: false,
  endpointPathProblem: (path) =>
    /\/v1$/.test(path)
      ? 'CLAUDE_ENDPOINT ends in /v1, and the SDK adds /v1/messages itself: set it to the base URL without /v1 (or unset it for the public API)'
      : null,
  classifyError: (err, model) => classifyStainlessError(err, 'claude', model),
  create: (s) =>
    new ClaudeProvider({ apiKey: s.CLAUDE_API_KEY as string, model: s.CLAUDE_MODEL, endpoint: s.CLAUDE_ENDPOINT }),
});
