/**
 * Provider failures, classified once so the chain can decide: retry the same provider, fail over at once,
 * or stop. Messages never carry a key: they are built from status codes and the providers' error bodies.
 */
import { AutomeshError, isAutomeshError } from '../core/errors.js';
import type { FailureKind, ProviderFailure, ProviderName } from './types.js';

/** Kinds worth retrying on the same provider. */
const RETRYABLE: ReadonlySet<FailureKind> = new Set(['rate_limit', 'overloaded', 'server', 'timeout', 'connection']);

/** One provider's failed try, classified (`kind`). Code `provider-failed`. */
export class ProviderError extends AutomeshError<'provider-failed'> {
  constructor(
    readonly provider: ProviderName,
    readonly model: string,
    readonly kind: FailureKind,
    message: string,
    readonly status: number | null = null,
    /** Server's requested wait before the next try (Retry-After, Gemini RetryInfo), in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super('provider-failed', message);
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  toFailure(): ProviderFailure {
    return { provider: this.provider, model: this.model, kind: this.kind, status: this.status, message: this.message };
  }
}

/** The kind of failure an HTTP status means. */
export function kindOfStatus(status: number): FailureKind {
  if (status === 429) return 'rate_limit';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'model';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'unknown';
}

/** Parses a Retry-After header value (seconds, or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return null;
}

/** Reads a header from the SDKs' error objects (a `Headers` instance or a plain record). */
export function headerOf(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const record = headers as Record<string, unknown>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key ? record[key] : undefined;
  return typeof value === 'string' ? value : null;
}

const HINTS: Partial<Record<FailureKind, string>> = {
  auth: 'check the API key',
  model: 'check the model or deployment name',
  connection: 'is the endpoint reachable?',
  unreachable: 'nothing answers at the endpoint: is the server running?',
  timeout: 'raise LLM_TIMEOUT or check the endpoint',
};

/** True for a {@link ProviderError} from any copy of automesh (a custom provider may throw its own copy's). */
export function isProviderError(error: unknown): error is ProviderError {
  return isAutomeshError(error, 'provider-failed');
}

/** The error thrown when every provider failed; `failures` holds each provider's last error. Code `llm-failed`. */
export class LlmChainError extends AutomeshError<'llm-failed'> {
  constructor(
    readonly failures: ProviderFailure[],
    readonly tried: ProviderName[],
    note = '',
  ) {
    const lastByProvider = new Map<ProviderName, ProviderFailure>();
    for (const failure of failures) lastByProvider.set(failure.provider, failure);
    const parts = tried.map((name) => {
      const f = lastByProvider.get(name);
      if (!f) return `${name}: not tried`;
      const hint = HINTS[f.kind] ? ` (${HINTS[f.kind]})` : '';
      return `${name} (${f.model}): ${f.kind}${f.status ? ` ${f.status}` : ''}: ${f.message}${hint}`;
    });
    super('llm-failed', `All LLM providers failed. ${parts.join('; ')}.${note ? ` ${note}` : ''}`);
    this.name = 'LlmChainError';
  }
}

/** Thrown when the caller's AbortSignal ended the call. Code `cancelled`; named `AbortError`, as fetch's is. */
export class LlmAbortError extends AutomeshError<'cancelled'> {
  constructor(message = 'The LLM call was cancelled by the caller.') {
    super('cancelled', message);
    this.name = 'AbortError';
  }
}

/** No provider configured (and no replay file). Code `no-provider`. */
export class NoProviderError extends AutomeshError<'no-provider'> {
  /** `setup` says what configures each provider (`providerSetupText()`, derived from the provider files). */
  constructor(order: readonly string[], setup: string) {
    super(
      'no-provider',
      `No LLM provider is configured. Set the variables of at least one provider (in the environment or .env): ${setup}. `
        + `LLM_PROVIDER_ORDER is ${order.join(',')}. To run without a network, set AUTOMESH_REPLAY to a recorded file.`,
    );
    this.name = 'NoProviderError';
  }
}
