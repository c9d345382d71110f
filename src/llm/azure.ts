/** Azure OpenAI through the official `openai` SDK's `AzureOpenAI` client (deployment-based URLs, `api-key`). */
import { AzureOpenAI } from 'openai';
import { chatComplete } from './openai-chat.js';
import type { CallOptions, Completion, LlmRequest, Provider } from './types.js';

export interface AzureOptions {
  apiKey: string;
  endpoint: string;
  deployment: string;
  apiVersion: string;
}

export class AzureProvider implements Provider {
  readonly name = 'azure' as const;
  readonly model: string;
  readonly endpoint: string;
  private readonly client: AzureOpenAI;

  constructor(options: AzureOptions) {
    this.model = options.deployment;
    this.endpoint = options.endpoint;
    this.client = new AzureOpenAI({
      apiKey: options.apiKey,
      endpoint: options.endpoint,
      deployment: options.deployment,
      apiVersion: options.apiVersion,
      maxRetries: 0,
    });
  }

  complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    return chatComplete(this.client, this.name, this.model, request, options);
  }
}
