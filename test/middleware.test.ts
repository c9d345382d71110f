// What wrapModel and wrapExecutor share (src/core/middleware.ts): the layer order, skipping middleware without
// the hook, and refusing anything that is not a middleware before any layer is built.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMiddleware, type MiddlewareKind, stackMiddleware } from '../src/core/middleware.js';

const KIND: MiddlewareKind = { label: 'Greeting middleware', hook: 'wrapGreet', signature: '(inner) => string' };
type Greet = (name: string) => string;

test('layers stack with the first middleware outermost; one without the hook adds no layer', () => {
  const base: Greet = (name) => `hello ${name}`;
  const layers: string[] = [];
  const wrapped = stackMiddleware<Greet, (inner: Greet, name: string) => string>(
    KIND,
    base,
    [
      { wrapGreet: (inner: Greet, name: string) => `[${inner(name)}]` },
      {},
      { wrapGreet: (inner: Greet, name: string) => inner(name.toUpperCase()) },
    ],
    (inner, hook) => {
      layers.push('layer');
      return (name) => hook(inner, name);
    },
  );
  assert.equal(wrapped('ada'), '[hello ADA]');
  assert.equal(layers.length, 2);
  assert.equal(
    stackMiddleware(KIND, base, [], () => () => 'never'),
    base,
    'no middleware: the target itself',
  );
});

test('the hook is called with its middleware as `this`', () => {
  const counter = {
    calls: 0,
    wrapGreet(this: { calls: number }, inner: Greet, name: string) {
      this.calls++;
      return inner(name);
    },
  };
  const wrapped = stackMiddleware<Greet, (inner: Greet, name: string) => string>(
    KIND,
    (n) => n,
    [counter],
    (inner, hook) => (n) => hook(inner, n),
  );
  wrapped('x');
  assert.equal(counter.calls, 1);
});

test('a bad entry anywhere is refused before any layer is built, naming its index and what to pass', () => {
  let built = 0;
  assert.throws(
    () => stackMiddleware(KIND, 1, [{ wrapGreet: () => 'ok' }, 'nope'], () => ++built),
    /Greeting middleware 1 must be an object \{ wrapGreet \}; got string/,
  );
  assert.equal(built, 0);
  assert.throws(
    () => checkMiddleware(KIND, [{ wrapGreet: 42 }]),
    /Greeting middleware 0: wrapGreet must be a function \(inner\) => string\./,
  );
});
