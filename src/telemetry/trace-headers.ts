/**
 * W3C Trace Context (`traceparent`, `tracestate`) written and read by automesh itself, so a mesh call and a step job
 * carry the caller's trace whether or not the user registered an OpenTelemetry propagator. Header names are
 * lowercase as the W3C spec writes them; OpenAgentMesh peers ignore headers they do not know (oam-wire.md §3).
 */
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The headers that carry `ctx`'s span to another process; empty when it has no valid span. */
export function traceHeaders(ctx: Context): Record<string, string> {
  const span = trace.getSpanContext(ctx);
  if (!span || !isSpanContextValid(span)) return {};
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const headers: Record<string, string> = { [TRACEPARENT]: `00-${span.traceId}-${span.spanId}-${flags}` };
  const state = span.traceState?.serialize();
  if (state) headers[TRACESTATE] = state;
  return headers;
}

/** The remote span `headers` name, or null when they carry none (or a malformed one, which is ignored). */
export function remoteSpanContext(headers: Readonly<Record<string, string>> | undefined): SpanContext | null {
  const parent = headers?.[TRACEPARENT];
  if (parent === undefined) return null;
  const match = TRACEPARENT_FORMAT.exec(parent.trim());
  if (!match) return null;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  const span: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  if (!isSpanContextValid(span)) return null;
  const state = headers?.[TRACESTATE];
  return state ? { ...span, traceState: createTraceState(state) } : span;
}

/** `base` with the remote span of `headers` as its parent, or `base` itself when they carry none. */
export function contextFromHeaders(base: Context, headers: Readonly<Record<string, string>> | undefined): Context {
  const remote = remoteSpanContext(headers);
  return remote ? trace.setSpanContext(base, remote) : base;
}
