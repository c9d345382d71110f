/**
 * Turns what the SDKs throw into a {@link ProviderError}. The Anthropic and OpenAI SDKs share one error
 * model (`APIError` with `status`, `headers`, parsed body; `APIConnectionError`; `APIConnectionTimeoutError`;
 * `APIUserAbortError`), classified here; a provider whose SDK differs classifies in its own file
 * (`providers/gemini.ts`) and falls back to {@link classifyOther}.
 */
import { headerOf, kindOfStatus, ProviderError, parseRetryAfter } from './errors.js';
import type { ProviderName } from './types.js';

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Nothing listens there (or the name does not resolve): retrying soon will not help; fail over at once. */
const UNREACHABLE_CODES = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|bad port/;

/** Connection-level failure codes of Node's fetch and http stacks. */
const CONNECTION_CODES =
  /ECONNRESET|EAI_AGAIN|EPIPE|UND_ERR_SOCKET|other side closed|socket hang up|fetch failed|terminated/i;

function causeChain(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let i = 0; i < 5 && current; i++) {
    if (current instanceof Error) {
      parts.push(current.message);
      const code = (current as { code?: unknown }).code;
      if (typeof code === 'string' && !current.message.includes(code)) parts.push(code);
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .join(': ');
}

export function errorName(err: unknown): string {
  if (!err || typeof err !== 'object') return '';
  const ctor = (err as { constructor?: { name?: string; _errorName?: string } }).constructor;
  return ctor?._errorName ?? ctor?.name ?? (err as { name?: string }).name ?? '';
}

/** Classification shared by the Stainless-generated SDKs (`@anthropic-ai/sdk`, `openai`). */
export function classifyStainlessError(err: unknown, provider: ProviderName, model: string): ProviderError {
  const name = errorName(err);
  if (name === 'APIUserAbortError' || (err instanceof Error && err.name === 'AbortError')) {
    return new ProviderError(provider, model, 'aborted', 'the request was aborted');
  }
  if (name === 'APIConnectionTimeoutError')
    return new ProviderError(provider, model, 'timeout', 'the request timed out');
  if (name === 'APIConnectionError') {
    const chain = causeChain(err).trim();
    const kind = UNREACHABLE_CODES.test(chain) ? 'unreachable' : 'connection';
    return new ProviderError(provider, model, kind, `connection failed (${chain.slice(0, 200)})`);
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number') {
    const headers = (err as { headers?: unknown }).headers;
    const retryAfterMs =
      Number(headerOf(headers, 'retry-after-ms')) || parseRetryAfter(headerOf(headers, 'retry-after'));
    const body = (err as { error?: { error?: { message?: unknown }; message?: unknown } }).error;
    const apiMessage = body?.error?.message ?? body?.message;
    const message = typeof apiMessage === 'string' && apiMessage ? apiMessage : messageOf(err);
    return new ProviderError(
      provider,
      model,
      kindOfStatus(status),
      message.slice(0, 500),
      status,
      retryAfterMs ?? null,
    );
  }
  return classifyOther(err, provider, model);
}

/** Failures outside an HTTP status: broken bodies, dropped connections. */
export function classifyOther(err: unknown, provider: ProviderName, model: string): ProviderError {
  const text = causeChain(err);
  if (err instanceof SyntaxError || /JSON|Unexpected token|Unexpected end/i.test(text)) {
    return new ProviderError(
      provider,
      model,
      'malformed',
      `the reply was not valid JSON (${messageOf(err).slice(0, 120)})`,
    );
  }
  if (UNREACHABLE_CODES.test(text)) {
    return new ProviderError(provider, model, 'unreachable', `connection failed (${text.trim().slice(0, 200)})`);
  }
  if (CONNECTION_CODES.test(text)) {
    return new ProviderError(provider, model, 'connection', `connection failed (${text.trim().slice(0, 200)})`);
  }
  return new ProviderError(provider, model, 'unknown', messageOf(err).slice(0, 300));
}
