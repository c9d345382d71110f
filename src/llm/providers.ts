/** Builds the configured providers, in chain order, from the settings. */
import type { ProviderName, Settings } from '../config/settings.js';
import { AzureProvider } from './azure.js';
import { ClaudeProvider } from './claude.js';
import { GeminiProvider } from './gemini.js';
import type { Provider } from './types.js';
import { VllmProvider } from './vllm.js';

/** Throws for a half-configured provider (one of its required variables set, another missing). */
function checkAzure(settings: Settings): boolean {
  const hasKey = Boolean(settings.AZURE_API_KEY);
  const hasEndpoint = Boolean(settings.AZURE_ENDPOINT);
  if (hasKey !== hasEndpoint) {
    throw new Error(
      hasKey
        ? 'AZURE_API_KEY is set but AZURE_ENDPOINT is not: set AZURE_ENDPOINT (e.g. https://NAME.openai.azure.com) or unset the key.'
        : 'AZURE_ENDPOINT is set but AZURE_API_KEY is not: set AZURE_API_KEY (or AZURE_OPENAI_KEY) or unset the endpoint.',
    );
  }
  return hasKey;
}

/** Whether each provider has what it needs. */
export function configuredProviders(settings: Settings): Record<ProviderName, boolean> {
  return {
    claude: Boolean(settings.CLAUDE_API_KEY),
    vllm: Boolean(settings.LLM_ENDPOINT),
    azure: checkAzure(settings),
    gemini: Boolean(settings.GEMINI_API_KEY),
  };
}

export function createProvider(name: ProviderName, settings: Settings): Provider {
  switch (name) {
    case 'claude':
      return new ClaudeProvider({
        apiKey: settings.CLAUDE_API_KEY as string, model: settings.CLAUDE_MODEL, endpoint: settings.CLAUDE_ENDPOINT,
      });
    case 'vllm':
      return new VllmProvider({ endpoint: settings.LLM_ENDPOINT as string, model: settings.LLM_MODEL, apiKey: settings.LLM_API_KEY });
    case 'azure':
      return new AzureProvider({
        apiKey: settings.AZURE_API_KEY as string, endpoint: settings.AZURE_ENDPOINT as string,
        deployment: settings.AZURE_DEPLOYMENT, apiVersion: settings.AZURE_API_VERSION,
      });
    case 'gemini':
      return new GeminiProvider({ apiKey: settings.GEMINI_API_KEY as string, model: settings.GEMINI_MODEL, endpoint: settings.GEMINI_ENDPOINT });
  }
}

/** The configured providers in `LLM_PROVIDER_ORDER`; unconfigured ones are left out. */
export function createProviders(settings: Settings): Provider[] {
  const configured = configuredProviders(settings);
  return settings.LLM_PROVIDER_ORDER.filter((name) => configured[name]).map((name) => createProvider(name, settings));
}
