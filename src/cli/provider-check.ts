/**
 * What `automesh check` says about the LLM providers: which variables each needs, whether it is configured
 * (keys masked), and a minimal live call to one provider through its adapter, with the reason when it fails.
 */
import { maskSecret, PROVIDER_NAMES, SETTING_ALIASES, type ProviderName, type Settings } from '../config/settings.js';
import { ProviderError } from '../llm/errors.js';
import { configuredProviders, createProvider } from '../llm/providers.js';
import { redactSecrets, secretsOf } from '../llm/redact.js';
import { classifyOther } from '../llm/sdk-errors.js';
import type { FailureKind, Provider } from '../llm/types.js';
import { tokenCount } from '../llm/usage.js';

interface ProviderVariables {
  label: string;
  /** Variables it needs, as a user reads them. */
  required: string;
  optional: string[];
  keyVar: 'CLAUDE_API_KEY' | 'LLM_API_KEY' | 'AZURE_API_KEY' | 'GEMINI_API_KEY';
  modelVar: 'CLAUDE_MODEL' | 'LLM_MODEL' | 'AZURE_DEPLOYMENT' | 'GEMINI_MODEL';
  endpointVar: 'CLAUDE_ENDPOINT' | 'LLM_ENDPOINT' | 'AZURE_ENDPOINT' | 'GEMINI_ENDPOINT';
}

export const PROVIDER_VARIABLES: Record<ProviderName, ProviderVariables> = {
  claude: {
    label: 'Claude (Anthropic)', required: 'CLAUDE_API_KEY (or ANTHROPIC_API_KEY)', optional: ['CLAUDE_MODEL', 'CLAUDE_ENDPOINT'],
    keyVar: 'CLAUDE_API_KEY', modelVar: 'CLAUDE_MODEL', endpointVar: 'CLAUDE_ENDPOINT',
  },
  vllm: {
    label: 'vLLM or any OpenAI-compatible server', required: 'LLM_ENDPOINT (or VLLM_ENDPOINT)', optional: ['LLM_MODEL', 'LLM_API_KEY'],
    keyVar: 'LLM_API_KEY', modelVar: 'LLM_MODEL', endpointVar: 'LLM_ENDPOINT',
  },
  azure: {
    label: 'Azure OpenAI', required: 'AZURE_API_KEY (or AZURE_OPENAI_KEY) and AZURE_ENDPOINT (or AZURE_OPENAI_ENDPOINT)',
    optional: ['AZURE_DEPLOYMENT', 'AZURE_API_VERSION'], keyVar: 'AZURE_API_KEY', modelVar: 'AZURE_DEPLOYMENT', endpointVar: 'AZURE_ENDPOINT',
  },
  gemini: {
    label: 'Google Gemini', required: 'GEMINI_API_KEY', optional: ['GEMINI_MODEL', 'GEMINI_ENDPOINT'],
    keyVar: 'GEMINI_API_KEY', modelVar: 'GEMINI_MODEL', endpointVar: 'GEMINI_ENDPOINT',
  },
};

/** One line per provider: what to set to configure it. */
export function providerVariableLines(): string[] {
  const width = Math.max(...PROVIDER_NAMES.map((n) => n.length));
  return PROVIDER_NAMES.map((name) => {
    const v = PROVIDER_VARIABLES[name];
    return `${name.padEnd(width)}  ${v.required}; optional ${v.optional.join(', ')}  (${v.label})`;
  });
}

/** A URL for display: any user:password part removed. */
export function displayUrl(value: string): string {
  try {
    const url = new URL(value);
    if (!url.username && !url.password) return value;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return value;
  }
}

/** Where a setting's value came from: the environment, `.env`, or the built-in default. */
export function settingSource(name: string, env: Record<string, string | undefined>, envFile: Record<string, string>): string {
  const keys = [name, ...(SETTING_ALIASES[name as keyof typeof SETTING_ALIASES] ?? [])];
  const set = (layer: Record<string, string | undefined>) => keys.find((k) => layer[k] !== undefined && layer[k] !== '');
  const fromEnv = set(env);
  if (fromEnv) return fromEnv === name ? 'environment' : `environment ${fromEnv}`;
  const fromFile = set(envFile);
  if (fromFile) return fromFile === name ? '.env' : `.env ${fromFile}`;
  return 'default';
}

export interface ProviderStatus {
  name: ProviderName;
  /** Listed in LLM_PROVIDER_ORDER (only those are called). */
  inOrder: boolean;
  configured: boolean;
  /** Set when the provider is half configured (e.g. an Azure key without an endpoint). */
  problem: string | null;
  model: string;
  endpoint: string | null;
  /** The key, masked (`maskSecret`); `(not set)` when there is none. */
  key: string;
  keySource: string | null;
  /** What to set when it is not configured. */
  needs: string;
}

/** Every provider, those of LLM_PROVIDER_ORDER first in that order, the others after. */
export function providerStatuses(settings: Settings, sources?: (name: string) => string): ProviderStatus[] {
  let configured: Record<ProviderName, boolean>;
  let azureProblem: string | null = null;
  try {
    configured = configuredProviders(settings);
  } catch (err) {
    // Only a half-configured Azure throws: judge the others without it.
    azureProblem = err instanceof Error ? err.message : String(err);
    configured = configuredProviders({ ...settings, AZURE_API_KEY: undefined, AZURE_ENDPOINT: undefined });
  }
  const order = settings.LLM_PROVIDER_ORDER;
  const names = [...order, ...PROVIDER_NAMES.filter((n) => !order.includes(n))];
  return names.map((name) => {
    const v = PROVIDER_VARIABLES[name];
    const isConfigured = configured[name];
    let endpoint: string | null = settings[v.endpointVar] ?? null;
    if (isConfigured) endpoint = createProvider(name, settings).endpoint;
    const key = settings[v.keyVar];
    return {
      name,
      inOrder: order.includes(name),
      configured: isConfigured,
      problem: name === 'azure' ? azureProblem : null,
      model: settings[v.modelVar],
      endpoint: endpoint === null ? null : displayUrl(endpoint),
      key: maskSecret(key),
      keySource: key && sources ? sources(v.keyVar) : null,
      needs: v.required,
    };
  });
}

/** Why a live call failed, as `check --validate-llm` reports it. */
export type LiveFailureReason = 'auth' | 'unknown model' | 'unreachable' | 'timeout' | 'other';

export interface LiveCheck {
  provider: ProviderName;
  ok: boolean;
  /** The model that answered (or was asked, on failure). */
  model: string;
  endpoint: string;
  latencyMs: number;
  reason: LiveFailureReason | null;
  /** The classified failure (`ProviderError.kind`). */
  kind: FailureKind | null;
  status: number | null;
  message: string | null;
  hint: string | null;
  /** The first characters of the reply. */
  reply: string | null;
  tokens: { input: number; output: number } | null;
}

/** Gemini answers a bad key with 400 INVALID_ARGUMENT "API key not valid", not 401: that is a refused key. */
const REFUSED_KEY = /API key not valid|API_KEY_INVALID|invalid api[ _-]?key|incorrect api key/i;

function reasonOf(kind: FailureKind, message = ''): LiveFailureReason {
  if (kind === 'auth' || (kind === 'bad_request' && REFUSED_KEY.test(message))) return 'auth';
  if (kind === 'model') return 'unknown model';
  if (kind === 'unreachable' || kind === 'connection') return 'unreachable';
  if (kind === 'timeout') return 'timeout';
  return 'other';
}

/** The path of a URL without trailing slashes ('' for none or an unparsable URL). */
function urlPath(value: string | undefined): string {
  if (!value) return '';
  try {
    return new URL(value).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/**
 * Why a 404 came back when the endpoint itself is the likely cause: the SDKs add their own path (`/v1/messages`,
 * `/v1beta/models/…`, `/chat/completions`), so an endpoint that already has it asks for a path that does not exist.
 */
function endpointPathProblem(name: ProviderName, configured: string | undefined): string | null {
  const path = urlPath(configured);
  const v = PROVIDER_VARIABLES[name];
  if (name === 'claude' && /\/v1$/.test(path)) {
    return `${v.endpointVar} ends in /v1, and the SDK adds /v1/messages itself: set it to the base URL without /v1 (or unset it for the public API)`;
  }
  if (name === 'gemini' && /\/v1(alpha|beta)?$/.test(path)) {
    return `${v.endpointVar} ends in ${path.slice(path.lastIndexOf('/'))}, and the SDK adds the API version itself: set it to the base URL without it (or unset it for the public API)`;
  }
  if (name === 'vllm' && path !== '' && !/^\/v1$/.test(path)) {
    return `${v.endpointVar} has the path ${path}: set it to the server's base URL (http://host:8000 or http://host:8000/v1); the client adds /chat/completions itself`;
  }
  if (name === 'azure' && path !== '') {
    return `${v.endpointVar} has the path ${path}: set it to the resource URL (https://NAME.openai.azure.com); the client adds /openai/deployments/… itself`;
  }
  return null;
}

function hintOf(name: ProviderName, error: ProviderError, endpoint: string, settings: Settings): string {
  const v = PROVIDER_VARIABLES[name];
  const kind = error.kind;
  switch (reasonOf(kind, error.message)) {
    case 'auth':
      return `the key was refused: check ${v.keyVar}${name === 'vllm' ? ' (the server may need one)' : ''}`;
    case 'unknown model': {
      const pathProblem = endpointPathProblem(name, settings[v.endpointVar]);
      if (pathProblem) return pathProblem;
      if (!/model|deployment/i.test(error.message)) {
        return `nothing answers at that path of ${endpoint} (HTTP 404): check ${v.endpointVar} (the base URL) and ${v.modelVar}`;
      }
      return `the provider does not know this model: check ${v.modelVar}`;
    }
    case 'unreachable':
      return `nothing answers at ${endpoint}: check ${v.endpointVar}${name === 'claude' || name === 'gemini' ? ' (unset it for the public API)' : ''}, the network, and that the server is running`;
    case 'timeout':
      return `no reply within LLM_TIMEOUT (${settings.LLM_TIMEOUT} s): raise LLM_TIMEOUT or check the endpoint`;
    default:
      if (kind === 'rate_limit' || kind === 'overloaded') return 'the provider is busy or rate-limited: try again in a minute';
      if (kind === 'server') return 'the provider had a server error: try again later';
      if (kind === 'bad_request') return `the provider rejected the request: check ${v.modelVar} and ${v.endpointVar}`;
      return 'see the message; automesh check --verbose shows more';
  }
}

/**
 * One tiny call to one provider through its adapter (no chain: no retries, no failover, no cooldown), with
 * LLM_TIMEOUT. Never throws.
 */
export async function liveCheck(name: ProviderName, settings: Settings): Promise<LiveCheck> {
  let provider: Provider;
  try {
    provider = createProvider(name, settings);
  } catch (err) {
    return {
      provider: name, ok: false, model: settings[PROVIDER_VARIABLES[name].modelVar], endpoint: '', latencyMs: 0, reason: 'other',
      kind: null, status: null, message: err instanceof Error ? err.message : String(err), hint: null, reply: null, tokens: null,
    };
  }
  const endpoint = displayUrl(provider.endpoint);
  const timeoutMs = Math.round(settings.LLM_TIMEOUT * 1000);
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error('LLM_TIMEOUT')), timeoutMs);
  const started = performance.now();
  try {
    const reply = await provider.complete({
      system: 'You are a connectivity check. Reply with the single word OK.',
      messages: [{ role: 'user', content: 'Reply with OK.' }],
    }, { signal: timer.signal, timeoutMs: timeoutMs + 1000, temperature: 0, maxTokens: 16 });
    return {
      provider: name, ok: true, model: reply.model, endpoint, latencyMs: performance.now() - started, reason: null, kind: null,
      status: null, message: null, hint: null, reply: reply.text.trim().slice(0, 60),
      tokens: tokenCount(reply.inputTokens) !== null && tokenCount(reply.outputTokens) !== null
        ? { input: reply.inputTokens as number, output: reply.outputTokens as number } : null,
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const error = timer.signal.aborted
      ? new ProviderError(name, provider.model, 'timeout', `no reply within LLM_TIMEOUT (${settings.LLM_TIMEOUT} s)`)
      : err instanceof ProviderError ? err : classifyOther(err, name, provider.model);
    return {
      provider: name, ok: false, model: provider.model, endpoint, latencyMs, reason: reasonOf(error.kind, error.message), kind: error.kind,
      status: error.status, message: redactSecrets(error.message, secretsOf(settings)), hint: hintOf(name, error, endpoint, settings), reply: null,
      tokens: null,
    };
  } finally {
    clearTimeout(handle);
  }
}
