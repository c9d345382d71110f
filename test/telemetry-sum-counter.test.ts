// SumCounter: increments kept per label set in nested maps, read by prom-client when the registry is rendered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SumCounter } from '../src/telemetry/sum-counter.js';

test('sums per label set, rendered as a Prometheus counter, again after more increments', async () => {
  const registry = new Registry();
  const counter = new SumCounter(registry, 'demo_total', 'A demo.', ['agent', 'status']);
  counter.inc({ agent: 'a', status: 'ok' });
  counter.inc({ agent: 'a', status: 'ok' }, 2);
  counter.inc({ agent: 'a', status: 'failed' });
  counter.inc({ agent: 'b', status: 'ok' }, 0.5);
  const first = await registry.metrics();
  assert.match(first, /^# TYPE demo_total counter$/m);
  assert.match(first, /^demo_total\{agent="a",status="ok"\} 3$/m);
  assert.match(first, /^demo_total\{agent="a",status="failed"\} 1$/m);
  assert.match(first, /^demo_total\{agent="b",status="ok"\} 0.5$/m);
  counter.inc({ agent: 'a', status: 'ok' });
  assert.match(
    await registry.metrics(),
    /^demo_total\{agent="a",status="ok"\} 4$/m,
    'a scrape does not double the sums',
  );
  assert.deepEqual(
    counter.values().map((sum) => [sum.labels.agent, sum.labels.status, sum.value]),
    [
      ['a', 'ok', 4],
      ['a', 'failed', 1],
      ['b', 'ok', 0.5],
    ],
  );
});

test('a counter without labels is refused', () => {
  assert.throws(() => new SumCounter(new Registry(), 'bare_total', 'No labels.', []), /needs at least one label/);
});
