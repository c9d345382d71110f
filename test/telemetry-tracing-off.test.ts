/**
 * The mesh's per-request spans are skipped while no OpenTelemetry SDK is registered (tracingOff), and made again as
 * soon as one is: a process may register its SDK after automesh is loaded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadSettings } from '../src/config/settings.js';
import { unranStepEnvelope } from '../src/mesh/step-runner.js';
import { traceMeshCall, traceMeshServe } from '../src/telemetry/mesh-spans.js';
import { MeshMetrics } from '../src/telemetry/metrics.js';
import { tracingOff } from '../src/telemetry/spans.js';
import { observeTask } from '../src/telemetry/task-telemetry.js';
import { telemetryFor } from '../src/telemetry/telemetry.js';

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

test('no SDK: a task only counts its metrics, and work that throws at once is a rejection, as with an SDK', async () => {
  const metrics = new MeshMetrics();
  const telemetry = telemetryFor(loadSettings({ envFile: false, env: {} }), metrics);
  const envelope = { ...unranStepEnvelope({ role: 'adder', stepId: 's' }, 'failure', 'it failed', 'runtime') };
  assert.equal(await observeTask({ role: 'adder', task: 'add' }, telemetry, async () => envelope), envelope);
  assert.match(
    await metrics.render(),
    /^automesh_tasks_total\{agent="adder",status="failure",error_category="runtime"\} 1$/m,
  );
  assert.match(await metrics.render(), /^automesh_task_duration_seconds_count\{agent="adder",status="failure"\} 1$/m);
  const thrown = observeTask({ role: 'adder', task: 'add' }, telemetry, () => {
    throw new Error('thrown at once');
  });
  await assert.rejects(thrown, /thrown at once/);
});
