// Following abort signals (src/core/abort.ts): a task's signal joined with the mesh's long-lived stop signal aborts
// with whichever fires first, adds one listener to the shared signal however many tasks follow it, and lets go
// when the task ends.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { anyAbort, watchAbort } from '../src/core/abort.js';

test('the joined signal aborts with the reason of the first signal that fires', () => {
  const task = new AbortController();
  const stop = new AbortController();
  const joined = anyAbort([task.signal, stop.signal]);
  assert.equal(joined.signal.aborted, false);
  const reason = new Error('stopping');
  stop.abort(reason);
  assert.equal(joined.signal.aborted, true);
  assert.equal(joined.signal.reason, reason);
  task.abort(new Error('later'));
  assert.equal(joined.signal.reason, reason, 'the first reason stays');
});

test('a signal that already aborted makes the joined signal aborted at once', () => {
  const reason = new Error('gone');
  const joined = anyAbort([new AbortController().signal, AbortSignal.abort(reason)]);
  assert.equal(joined.signal.aborted, true);
  assert.equal(joined.signal.reason, reason);
});

test('after release, the joined signal no longer follows its sources', () => {
  const stop = new AbortController();
  const joined = anyAbort([new AbortController().signal, stop.signal]);
  joined.release();
  stop.abort();
  assert.equal(joined.signal.aborted, false);
});

test('a thousand followers of one signal add one listener to it, and no leak warning', async () => {
  const stop = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    const joined = Array.from({ length: 1000 }, () => anyAbort([new AbortController().signal, stop.signal]));
    let called = 0;
    const stopWatching = watchAbort(stop.signal, () => called++);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
    for (const j of joined.slice(0, 500)) j.release();
    stop.abort();
    stopWatching();
    assert.equal(called, 1);
    assert.equal(joined.filter((j) => j.signal.aborted).length, 500, 'only the followers not released abort');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => w.message),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});
