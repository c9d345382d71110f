/**
 * Azure OpenAI through the official `openai` SDK's `AzureOpenAI` client (deployment-based URLs, `api-key`),
 * loaded on the first call.
 */
import type { AzureOpenAI } from 'openai';
import { text, url } from '../../config/fields.js';
import { classifyStainlessError } from '../sdk-errors.js';
import type { CallOptions, Completion, LlmRequest } from '../types.js';
import { defineProvider, type ProviderDefinition } from './define.js';
import { chatComplete, openaiSdk } from './openai-chat.js';
import { SdkProvider } from './sdk-provider.js';

const DEFAULT_DEPLOYMENT = 'gpt-4o';

export interface AzureOptions {
  apiKey: string;
  endpoint: string;
  deployment: string;
  apiVersion: string;
}

export class AzureProvider extends SdkProvider<AzureOpenAI> {
  readonly name = 'azure' as const;

  constructor(private readonly options: AzureOptions) {
    super(options.deployment, options.endpoint);
  }

  protected connect(): Promise<AzureOpenAI> {
    const { apiKey, endpoint, deployment, apiVersion } = this.options;
    return openaiSdk().then(
      ({ AzureOpenAI: Client }) => new Client({ apiKey, endpoint, deployment, apiVersion, maxRetries: 0 }),
    );
  }

  complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    return chatComplete(() => this.clientOf(), this.name, this.model, request, options);
  }
}

/** Its settings: read under these names (and aliases), secret or not, with their defaults. */
const settings = {
  AZURE_API_KEY: {
    schema: text('AZURE_API_KEY').optional(),
    secret: true,
    aliases: ['AZURE_OPENAI_KEY', 'AZURE_OPENAI_API_KEY'],
  },
  AZURE_ENDPOINT: {
    schema: url('AZURE_ENDPOINT').optional(),
    secret: false,
    aliases: ['AZURE_OPENAI_ENDPOINT'],
    example: 'https://NAME.openai.azure.com',
  },
  AZURE_DEPLOYMENT: { schema: text('AZURE_DEPLOYMENT').default(DEFAULT_DEPLOYMENT), secret: false },
  AZURE_API_VERSION: { schema: text('AZURE_API_VERSION').default('2024-10-21'), secret: false },
};

// Typed by annotation, not by its initializer: the provider names are derived from these types (./index.ts).
export const azure: ProviderDefinition<'azure', typeof settings> = defineProvider({
  name: 'azure',
  label: 'Azure OpenAI',
  aliases: ['azure-openai'],
  settings,
  required: ['AZURE_API_KEY', 'AZURE_ENDPOINT'],
  keySetting: 'AZURE_API_KEY',
  modelSetting: 'AZURE_DEPLOYMENT',
  endpointSetting: 'AZURE_ENDPOINT',
  defaultModel: DEFAULT_DEPLOYMENT,
  publicEndpoint: null,
  selfHosted: false,
  endpointPathProblem: (path) =>
    path !== ''
      ? `AZURE_ENDPOINT has the path ${path}: set it to the resource URL (https://NAME.openai.azure.com); the client adds /openai/deployments/… itself`
      : null,
  classifyError: (err, model) => classifyStainlessError(err, 'azure', model),
  create: (s) =>
    new AzureProvider({
      apiKey: s.AZURE_API_KEY as string,
      endpoint: s.AZURE_ENDPOINT as string,
      deployment: s.AZURE_DEPLOYMENT,
      apiVersion: s.AZURE_API_VERSION,
    }),
});
