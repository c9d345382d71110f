/**
 * automesh's spans, through `@opentelemetry/api` only: with no SDK registered the tracer is the API's no-op one, a
 * span is not recording, and nothing below computes attributes or enters a scope for it.
 */
import {
  type Attributes,
  type Context,
  ProxyTracerProvider,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { activeContext, withContext } from './scope.js';

/** The instrumentation scope's name: what a user filters automesh's spans by. */
export const TRACER_NAME = 'automesh';

// A proxy tracer: it follows whatever provider is registered, now or later.
const tracer: Tracer = trace.getTracer(TRACER_NAME);

/** What the API's global provider delegates to while no SDK is registered: its no-op provider. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * Whether no OpenTelemetry SDK is registered (now: one may be later), so that every span would be the API's no-op.
 * The mesh's per-request spans skip even making one then: every call and served request passes there.
 */
export function tracingOff(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK;
}

/** Longest error message kept on a span's status. */
const MAX_MESSAGE = 1000;

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default: the active context (automesh's scope, else the API's). */
  parent?: Context;
}

export function startSpan(name: string, options: SpanOptions = {}): Span {
  const { parent, ...rest } = options;
  return tracer.startSpan(name, rest, parent ?? activeContext());
}

/** Marks the span failed with `message` (kept short: an error text may be long). */
export function failSpan(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: message.slice(0, MAX_MESSAGE) });
}

/** Records a thrown error on the span: an exception event and an error status. */
export function recordThrow(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  if (err instanceof Error) span.recordException(err);
  failSpan(span, err instanceof Error ? err.message : String(err));
}

/**
 * Runs `fn` in a new span that is the parent of every span `fn` starts; `describe` adds what the outcome says
 * before the span ends. A throw is recorded and rethrown. When the span is not recording (no SDK, or not sampled)
 * `fn` just runs, in `options.parent` when that is not the active context already, with no async frame around it:
 * every mesh call and served request passes here, and without an SDK the span is to cost next to nothing.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  describe?: (span: Span, outcome: T) => void,
): Promise<T> {
  const active = activeContext();
  const parent = options.parent ?? active;
  const span = tracer.startSpan(name, options.kind !== undefined ? { kind: options.kind } : {}, parent);
  if (span.isRecording()) return inRecordingSpan(span, parent, options.attributes, fn, describe);
  try {
    // An unsampled parent that came from elsewhere (a request's traceparent) still travels on with the work.
    return parent === active ? fn(span) : withContext(parent, () => fn(span));
  } catch (err) {
    return Promise.reject(err);
  }
}

async function inRecordingSpan<T>(
  span: Span,
  parent: Context,
  attributes: Attributes | undefined,
  fn: (span: Span) => Promise<T>,
  describe?: (span: Span, outcome: T) => void,
): Promise<T> {
  if (attributes) span.setAttributes(attributes);
  let outcome: T;
  try {
    outcome = await withContext(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    recordThrow(span, err);
    span.end();
    throw err;
  }
  try {
    describe?.(span, outcome);
  } finally {
    span.end();
  }
  return outcome;
}
