// SumHistogram: observations kept per label set in nested maps, rendered as prom-client renders its own Histogram.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { SumHistogram } from '../src/telemetry/sum-histogram.js';

const BOUNDS = [0.01, 0.1, 1, 10];
const OBSERVED: Array<[Record<'agent' | 'status', string>, number]> = [
  [{ agent: 'a', status: 'success' }, 0.004],
  [{ agent: 'a', status: 'success' }, 0.01],
  [{ agent: 'b', status: 'failure' }, 0.5],
  [{ agent: 'a', status: 'success' }, 3],
  [{ agent: 'a', status: 'failure' }, 42],
  [{ agent: 'b', status: 'failure' }, 0.05],
  [{ agent: 'a "quoted"\nname', status: 'success' }, 0.2],
];

function both(): {
  ours: Registry;
  theirs: Registry;
  sum: SumHistogram<'agent' | 'status'>;
  real: Histogram<'agent' | 'status'>;
} {
  const ours = new Registry();
  const theirs = new Registry();
  const labelNames: Array<'agent' | 'status'> = ['agent', 'status'];
  const sum = new SumHistogram(ours, 'demo_seconds', 'A demo.', labelNames, BOUNDS);
  const real = new Histogram({
    name: 'demo_seconds',
    help: 'A demo.',
    labelNames,
    buckets: BOUNDS,
    registers: [theirs],
  });
  return { ours, theirs, sum, real };
}

test('renders exactly what a prom-client Histogram renders for the same observations, text and JSON', async () => {
  const { ours, theirs, sum, real } = both();
  for (const [labels, value] of OBSERVED) {
    sum.observe(labels, value);
    real.observe(labels, value);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /^demo_seconds_bucket\{le="0.1",agent="a",status="success"\} 2$/m);
  assert.match(text, /^demo_seconds_bucket\{le="\+Inf",agent="a",status="failure"\} 1$/m);
  assert.match(text, /^demo_seconds_sum\{agent="b",status="failure"\} 0.55$/m);
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  sum.observe({ agent: 'a', status: 'success' }, 0.02);
  real.observe({ agent: 'a', status: 'success' }, 0.02);
  assert.equal(await ours.metrics(), await theirs.metrics(), 'a scrape changes nothing it reads');
});

test('a reset forgets every series, as prom-client does', async () => {
  const { ours, theirs, sum, real } = both();
  sum.observe({ agent: 'a', status: 'success' }, 1);
  real.observe({ agent: 'a', status: 'success' }, 1);
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.doesNotMatch(await ours.metrics(), /agent="a"/);
  sum.observe({ agent: 'c', status: 'success' }, 1);
  assert.match(await ours.metrics(), /^demo_seconds_count\{agent="c",status="success"\} 1$/m);
});

test('refuses what prom-client refuses: no labels, an le label, bounds out of order, a value that is not a number', () => {
  const registry = new Registry();
  assert.throws(() => new SumHistogram(registry, 'a_seconds', 'x', [], BOUNDS), /needs at least one label/);
  assert.throws(() => new SumHistogram(registry, 'b_seconds', 'x', ['le'], BOUNDS), /le is a reserved label/);
  assert.throws(() => new SumHistogram(registry, 'c_seconds', 'x', ['agent'], [1, 0.5]), /increasing order/);
  const histogram = new SumHistogram(registry, 'd_seconds', 'x', ['agent'], BOUNDS);
  assert.throws(() => histogram.observe({ agent: 'a' }, Number.NaN), /not a valid number/);
  assert.throws(() => new SumHistogram(registry, 'd_seconds', 'x', ['agent'], BOUNDS), /already been registered/);
});
