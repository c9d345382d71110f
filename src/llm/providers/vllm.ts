/** Any OpenAI-compatible server (vLLM, llama.cpp, Ollama) through the official `openai` SDK, loaded on the first call. */
import type OpenAI from 'openai';
import { text, url } from '../../config/fields.js';
import { classifyStainlessError } from '../sdk-errors.js';
import type { CallOptions, Completion, LlmRequest } from '../types.js';
import { defineProvider, type ProviderDefinition } from './define.js';
import { chatComplete, openaiSdk } from './openai-chat.js';
import { SdkProvider } from './sdk-provider.js';

/** vLLM serves whatever it was started with; most servers ignore the name, so this only makes a first run work. */
const DEFAULT_MODEL = 'default';

export interface VllmOptions {
  endpoint: string;
  model: string;
  apiKey?: string;
}

/** `http://host:8000` → `http://host:8000/v1`; an endpoint already ending in `/v1` is kept. */
export function withV1(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

export class VllmProvider extends SdkProvider<OpenAI> {
  readonly name = 'vllm' as const;

  constructor(private readonly options: VllmOptions) {
    super(options.model, withV1(options.endpoint));
  }

  protected connect(): Promise<OpenAI> {
    // Local servers usually take any key; the SDK insists on one, so a placeholder stands in.
    return openaiSdk().then(
      ({ default: Client }) =>
        new Client({ apiKey: this.options.apiKey ?? 'not-needed', baseURL: this.endpoint, maxRetries: 0 }),
    );
  }

  complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    return chatComplete(() => this.clientOf(), this.name, this.model, request, options);
  }
}

/** Its settings: read under these names (and aliases), secret or not, with their defaults. */
const settings = {
  LLM_ENDPOINT: { schema: url('LLM_ENDPOINT').optional(), secret: false, aliases: ['VLLM_ENDPOINT'] },
  LLM_MODEL: { schema: text('LLM_MODEL').default(DEFAULT_MODEL), secret: false },
  LLM_API_KEY: { schema: text('LLM_API_KEY').optional(), secret: true },
};

// Typed by annotation, not by its initializer: the provider names are derived from these types (./index.ts).
export const vllm: ProviderDefinition<'vllm', typeof settings> = defineProvider({
  name: 'vllm',
  label: 'vLLM or any OpenAI-compatible server',
  aliases: ['openai', 'openai-compatible'],
  settings,
  required: ['LLM_ENDPOINT'],
  keySetting: 'LLM_API_KEY',
  modelSetting: 'LLM_MODEL',
  endpointSetting: 'LLM_ENDPOINT',
  defaultModel: DEFAULT_MODEL,
  publicEndpoint: null,
  selfHosted: true,
  endpointPathProblem: (path) =>
    path !== '' && !/^\/v1$/.test(path)
      ? `LLM_ENDPOINT has the path ${path}: set it to the server's base URL (http://host:8000 or http://host:8000/v1); the client adds /chat/completions itself`
      : null,
  classifyError: (err, model) => classifyStainlessError(err, 'vllm', model),
  create: (s) => new VllmProvider({ endpoint: s.LLM_ENDPOINT as string, model: s.LLM_MODEL, apiKey: s.LLM_API_KEY }),
});
