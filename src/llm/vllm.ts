/** Any OpenAI-compatible server (vLLM, llama.cpp, Ollama) through the official `openai` SDK. */
import OpenAI from 'openai';
import { chatComplete } from './openai-chat.js';
import type { CallOptions, Completion, LlmRequest, Provider } from './types.js';

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

export class VllmProvider implements Provider {
  readonly name = 'vllm' as const;
  readonly model: string;
  readonly endpoint: string;
  private readonly client: OpenAI;

  constructor(options: VllmOptions) {
    this.model = options.model;
    this.endpoint = withV1(options.endpoint);
    // Local servers usually take any key; the SDK insists on one, so a placeholder stands in.
    this.client = new OpenAI({ apiKey: options.apiKey ?? 'not-needed', baseURL: this.endpoint, maxRetries: 0 });
  }

  complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    return chatComplete(this.client, this.name, this.model, request, options);
  }
}
