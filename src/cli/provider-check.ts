/**
 * What `automesh check` says about the LLM providers: which variables each needs, whether it is configured
 * (keys masked), and a minimal live call to one provider through its adapter, with the reason when it fails.
 */
import { maskSecret, PROVIDER_NAMES, type ProviderName, SETTING_ALIASES, type Settings } from '../config/settings.js';
import { isProviderError, ProviderError } from '../llm/errors.js';
import {
  configuredModel,
  createProvider,
  providerDefinition,
  requiredSettingsText,
  settingValue,
} from '../llm/providers/index.js';
import { redactSecrets, secretsOf } from '../llm/redact.js';
import { classifyOther } from '../llm/sdk-errors.js';
import type { FailureKind, Provider } from '../llm/types.js';
import { tokenCount } from '../llm/usage.js';

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
export function settingSource(
  name: string,
  env: Record<string, string | undefined>,
  envFile: Record<string, string>,
): string {
  const keys = [name, ...(SETTING_ALIASES[name as keyof typeof SETTING_ALIASES] ?? [])];
  const set = (layer: Record<string, string | undefined>) =>
    keys.find((k) => layer[k] !== undefined && layer[k] !== '');
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
  /** False for a provider that works without a key (a local server); its key is then optional. */
  keyRequired: boolean;
  /** Set when the provider is half configured (e.g. an Azure key without an endpoint). */
  problem: string | null;
  model: string;
  endpoint: string | null;
  /** The key, masked (`maskSecret`); `(not set)` when there is none. */
  key: string;
  keySource: string | null;
  /** The setting holding its key. */
  keySetting: string;
  /** What to set when it is not configured. */
  needs: string;
}

/** Every provider, those of LLM_PROVIDER_ORDER first in that order, the others after. */
export function providerStatuses(settings: Settings, sources?: (name: string) => string): ProviderStatus[] {
  const order = settings.LLM_PROVIDER_ORDER;
  const names = [...order, ...PROVIDER_NAMES.filter((n) => !order.includes(n))];
  return names.map((name) => {
    const p = providerDefinition(name);
    let isConfigured = false;
    let problem: string | null = null;
    try {
      isConfigured = p.isConfigured(settings);
    } catch (err) {
      // Half configured (a key without its endpoint): reported, and the provider counts as not configured.
      problem = err instanceof Error ? err.message : String(err);
    }
    let endpoint = settingValue(settings, p.endpointSetting) ?? null;
    if (isConfigured) endpoint = createProvider(name, settings).endpoint;
    const key = settingValue(settings, p.keySetting);
    return {
      name,
      inOrder: order.includes(name),
      configured: isConfigured,
      keyRequired: p.required.includes(p.keySetting),
      problem,
      model: configuredModel(settings, name),
      endpoint: endpoint === null ? null : displayUrl(endpoint),
      key: maskSecret(key),
      keySource: key && sources ? sources(p.keySetting) : null,
      keySetting: p.keySetting,
      needs: requiredSettingsText(name),
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

/** 400s that mean a refused key, whatever the provider; a provider declares its own wording (`refusedKey`). */
const REFUSED_KEY = /invalid api[ _-]?key|incorrect api key/i;

function reasonOf(name: ProviderName, kind: FailureKind, message = ''): LiveFailureReason {
  const refused = REFUSED_KEY.test(message) || (providerDefinition(name).refusedKey?.test(message) ?? false);
  if (kind === 'auth' || (kind === 'bad_request' && refused)) return 'auth';
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
 * What to do about a failed live call. A 404 is often the endpoint's fault: the SDKs add their own path
 * (`/v1/messages`, `/v1beta/models/…`, `/chat/completions`), so an endpoint that already has it asks for a path
 * that does not exist; each provider declares what its SDK adds (`endpointPathProblem`).
 */
function hintOf(name: ProviderName, error: ProviderError, endpoint: string, settings: Settings): string {
  const p = providerDefinition(name);
  const kind = error.kind;
  switch (reasonOf(name, kind, error.message)) {
    case 'auth':
      return `the key was refused: check ${p.keySetting}${p.required.includes(p.keySetting) ? '' : ' (the server may need one)'}`;
    case 'unknown model': {
      const pathProblem = p.endpointPathProblem(urlPath(settingValue(settings, p.endpointSetting)));
      if (pathProblem) return pathProblem;
      if (!/model|deployment/i.test(error.message)) {
        return `nothing answers at that path of ${endpoint} (HTTP 404): check ${p.endpointSetting} (the base URL) and ${p.modelSetting}`;
      }
      return `the provider does not know this model: check ${p.modelSetting}`;
    }
    case 'unreachable':
      return `nothing answers at ${endpoint}: check ${p.endpointSetting}${p.publicEndpoint ? ' (unset it for the public API)' : ''}, the network, and that the server is running`;
    case 'timeout':
      return `no reply within LLM_TIMEOUT (${settings.LLM_TIMEOUT} s): raise LLM_TIMEOUT or check the endpoint`;
    default:
      if (kind === 'rate_limit' || kind === 'overloaded')
        return 'the provider is busy or rate-limited: try again in a minute';
      if (kind === 'server') return 'the provider had a server error: try again later';
      if (kind === 'bad_request')
        return `the provider rejected the request: check ${p.modelSetting} and ${p.endpointSetting}`;
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
      provider: name,
      ok: false,
      model: configuredModel(settings, name),
      endpoint: '',
      latencyMs: 0,
      reason: 'other',
      kind: null,
      status: null,
      message: err instanceof Error ? err.message : String(err),
      hint: null,
      reply: null,
      tokens: null,
    };
  }
  const endpoint = displayUrl(provider.endpoint);
  await provider.prepare?.();
  const timeoutMs = Math.round(settings.LLM_TIMEOUT * 1000);
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error('LLM_TIMEOUT')), timeoutMs);
  const started = performance.now();
  try {
    const reply = await provider.complete(
      {
        system: 'You are a connectivity check. Reply with the single word OK.',
        messages: [{ role: 'user', content: 'Reply with OK.' }],
      },
      { signal: timer.signal, timeoutMs: timeoutMs + 1000, temperature: 0, maxTokens: 16 },
    );
    return {
      provider: name,
      ok: true,
      model: reply.model,
      endpoint,
      latencyMs: performance.now() - started,
      reason: null,
      kind: null,
      status: null,
      message: null,
      hint: null,
      reply: reply.text.trim().slice(0, 60),
      tokens:
        tokenCount(reply.inputTokens) !== null && tokenCount(reply.outputTokens) !== null
          ? { input: reply.inputTokens as number, output: reply.outputTokens as number }
          : null,
    };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const error = timer.signal.aborted
      ? new ProviderError(name, provider.model, 'timeout', `no reply within LLM_TIMEOUT (${settings.LLM_TIMEOUT} s)`)
      : isProviderError(err)
        ? err
        : classifyOther(err, name, provider.model);
    return {
      provider: name,
      ok: false,
      model: provider.model,
      endpoint,
      latencyMs,
      reason: reasonOf(name, error.kind, error.message),
      kind: error.kind,
      status: error.status,
      message: redactSecrets(error.message, secretsOf(settings)),
      hint: hintOf(name, error, endpoint, settings),
      reply: null,
      tokens: null,
    };
  } finally {
    clearTimeout(handle);
  }
}
