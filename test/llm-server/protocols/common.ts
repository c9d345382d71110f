// Helpers shared by the protocol modules.
import type { ErrorReply, ReceivedRequest, TextReply, WireResponse } from './types.js';

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Text of a content value: a string, a `{ text }` part, or an array of parts (text parts joined with '\n'). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => textOf(part))
      .filter((t) => t !== '')
      .join('\n');
  }
  if (isRecord(content)) {
    if (typeof content.text === 'string') return content.text;
    if (Array.isArray(content.parts)) return textOf(content.parts);
    if (typeof content.type === 'string') return `[${content.type}]`;
  }
  return '';
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): WireResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** Deterministic default: ceil(characters of all request text / 4). */
export function defaultInputTokens(req: ReceivedRequest): number {
  let chars = req.system?.length ?? 0;
  for (const m of req.messages) chars += m.content.length;
  return Math.ceil(chars / 4);
}

export function tokenCounts(reply: TextReply, req: ReceivedRequest): { input: number; output: number } {
  return {
    input: reply.inputTokens ?? defaultInputTokens(req),
    output: reply.outputTokens ?? Math.ceil(reply.text.length / 4),
  };
}

/** Retry-After header from a scripted error, if any. */
export function retryHeaders(reply: ErrorReply | null): Record<string, string> {
  return reply?.retryAfter !== undefined ? { 'retry-after': String(reply.retryAfter) } : {};
}

/** A body that starts like the real thing and stops mid-way: not valid JSON. */
export function truncatedJson(prefix: Json): WireResponse {
  const full = JSON.stringify(prefix);
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: full.slice(0, Math.max(1, full.length - 7)) + '{"',
  };
}

export function pad(seq: number): string {
  return String(seq).padStart(6, '0');
}
