// W3C Trace Context as automesh writes and reads it on mesh requests: a valid span round-trips, with its sampled flag
// and tracestate; a missing, malformed or all-zero traceparent is ignored (the request is served as a new trace).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTraceState, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { contextFromHeaders, remoteSpanContext, traceHeaders } from '../src/telemetry/trace-headers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

test('a span context round-trips through the headers, with its flag and tracestate', () => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
    traceState: createTraceState('vendor=a,other=b'),
  });
  const headers = traceHeaders(ctx);
  assert.deepEqual(headers, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'vendor=a,other=b' });
  const remote = trace.getSpanContext(contextFromHeaders(ROOT_CONTEXT, headers));
  assert.equal(remote?.traceId, TRACE_ID);
  assert.equal(remote?.spanId, SPAN_ID);
  assert.equal(remote?.traceFlags, TraceFlags.SAMPLED);
  assert.equal(remote?.isRemote, true);
  assert.equal(remote?.traceState?.get('vendor'), 'a');
});

test('an unsampled span keeps flag 00; a context with no span gives no header', () => {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE });
  assert.deepEqual(traceHeaders(ctx), { traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` });
  assert.deepEqual(traceHeaders(ROOT_CONTEXT), {});
});

test('missing, malformed and all-zero traceparents are ignored', () => {
  for (const traceparent of [
    'garbage',
    `01-${TRACE_ID}-${SPAN_ID}-01`,
    `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
    `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    `00-${TRACE_ID}-${SPAN_ID}`,
  ]) {
    assert.equal(remoteSpanContext({ traceparent }), null, traceparent);
    assert.equal(contextFromHeaders(ROOT_CONTEXT, { traceparent }), ROOT_CONTEXT);
  }
  assert.equal(remoteSpanContext({}), null);
  assert.equal(remoteSpanContext(undefined), null);
});
