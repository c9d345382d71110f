/**
 * Spans of mesh calls: the caller's (`mesh.call {agent}`, kind client) whose context travels in the request's
 * `traceparent` header, and the serving process's (`mesh.serve {agent}`, kind server), a child of it, so a task
 * served in another process is part of the caller's trace.
 */
import { SpanKind } from '@opentelemetry/api';
import { activeContext, withContext } from './scope.js';
import { failSpan, inSpan, tracingOff } from './spans.js';
import { contextFromHeaders, TRACEPARENT, traceHeaders } from './trace-headers.js';

/** The trace headers of the work running now (empty when no span is active). */
export function currentTraceHeaders(): Record<string, string> {
  return traceHeaders(activeContext());
}

/** Runs a call to `agent` on `subject` in its client span; the request headers read inside carry that span. */
export function traceMeshCall<T>(agent: string, subject: string, call: () => Promise<T>): Promise<T> {
  // Without an SDK the span would be a no-op: the call runs as is, and its headers carry the trace it runs in.
  if (tracingOff()) return callNow(call);
  return inSpan(
    `mesh.call ${agent}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'automesh.agent': agent },
    },
    call,
  );
}

/** What a served request ended with: the error it answered, or null for a reply. */
export type ServeOutcome = { code: string; message: string } | null;

/**
 * Handles a request to `agent` in its server span, the child of the caller's span when the headers name one; the
 * error the request was answered with (its code as `error.type`) marks the span failed. With no span to make (no
 * SDK, no caller's trace) `handle` runs as is: its outcome, or its promise, or its throw, is returned unchanged, so
 * a request served synchronously stays synchronous.
 */
export function traceMeshServe<O extends ServeOutcome>(
  agent: string,
  subject: string,
  headers: Readonly<Record<string, string>>,
  handle: () => O | Promise<O>,
): O | Promise<O> {
  if (tracingOff() && headers[TRACEPARENT] === undefined) return handle();
  return inSpan(
    `mesh.serve ${agent}`,
    {
      kind: SpanKind.SERVER,
      parent: contextFromHeaders(activeContext(), headers),
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'automesh.agent': agent },
    },
    async () => handle(),
    (span, outcome) => {
      if (!outcome) return;
      span.setAttribute('error.type', outcome.code);
      failSpan(span, `${outcome.code}: ${outcome.message}`);
    },
  );
}

/** `fn()`, a synchronous throw as a rejection (as `inSpan` gives it). */
function callNow<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Runs `fn` as part of the trace `headers` carry (a step job taken from the work queue); as is without one. */
export function continueTrace<T>(headers: Readonly<Record<string, string>> | undefined, fn: () => T): T {
  if (!headers || Object.keys(headers).length === 0) return fn();
  return withContext(contextFromHeaders(activeContext(), headers), fn);
}
