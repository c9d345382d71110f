/**
 * The mesh's per-request spans are skipped while no OpenTelemetry SDK is registered (tracingOff), and made again as
 * soon as one is: a process may register its SDK after automesh is loaded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { traceMeshCall, traceMeshServe } from '../src/telemetry/mesh-spans.js';
import { tracingOff } from '../src/telemetry/spans.js';

test('no SDK: tracing is off and a mesh call runs as is; an SDK registered later gets the spans', async () => {
  assert.equal(tracingOff(), true);
  assert.equal(await traceMeshCall('a.b', 'mesh.agent.a.b', async () => 7), 7);
  await assert.rejects(
    traceMeshCall('a.b', 'mesh.agent.a.b', () => {
      throw new Error('thrown synchronously');
    }),
    /thrown synchronously/,
  );

  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  try {
    assert.equal(tracingOff(), false);
    await traceMeshCall('a.b', 'mesh.agent.a.b', async () => 7);
    await traceMeshServe('a.b', 'mesh.agent.a.b', {}, async () => null);
    assert.deepEqual(
      exporter.getFinishedSpans().map((span) => span.name),
      ['mesh.call a.b', 'mesh.serve a.b'],
    );
  } finally {
    trace.disable();
  }
  assert.equal(tracingOff(), true);
});
