import assert from 'node:assert/strict';
import { test } from 'node:test';
import { andThen, isThenable } from '../src/core/maybe-async.js';

test('a plain value goes on at once; a promise or any thenable, once it settles', async () => {
  assert.equal(
    andThen(2, (n) => n * 10),
    20,
  );
  const later = andThen(Promise.resolve(3), (n) => n * 10);
  assert.ok(later instanceof Promise);
  assert.equal(await later, 30);
  // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, as `await` takes one.
  const thenable = { then: (done: (n: number) => void) => done(4) };
  assert.equal(await (andThen(thenable, (n) => n * 10) as Promise<number>), 40);
  await assert.rejects(andThen(Promise.reject(new Error('no')), () => 1) as Promise<unknown>, /no/);
  assert.throws(
    () =>
      andThen(1, () => {
        throw new Error('now');
      }),
    /now/,
  );
});

test('what counts as a thenable: what `await` would wait for', () => {
  assert.ok(isThenable(Promise.resolve()));
  // biome-ignore lint/suspicious/noThenProperty: the case under test.
  assert.ok(isThenable({ then() {} }));
  // biome-ignore lint/suspicious/noThenProperty: the case under test.
  assert.ok(isThenable(Object.assign(() => 1, { then() {} })));
  // biome-ignore lint/suspicious/noThenProperty: a `then` that is not a function does not count.
  const notCallable = { then: 1 };
  for (const value of [null, undefined, 0, 'then', notCallable, { success: true, data: {} }]) {
    assert.equal(isThenable(value), false, JSON.stringify(value));
  }
});
