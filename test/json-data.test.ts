// The JSON-data check that task and step contexts pass before any model is asked: the first value JSON cannot
// hold is named by its path, with what to pass instead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findNonJsonData, propertyPath } from '../src/codegen/json-data.js';

test('plain JSON data passes, including Dates (copied as ISO strings), shared values and undefined properties', () => {
  const shared = { id: 7, tags: ['a', 'b'] };
  const data = {
    text: 'x',
    n: -0.5,
    ok: true,
    none: null,
    missing: undefined,
    when: new Date('2026-01-02T03:04:05Z'),
    rows: [shared, shared, { nested: [[1, 2], [3]] }],
    bare: Object.assign(Object.create(null) as object, { k: 1 }),
  };
  assert.equal(findNonJsonData(data, 'context'), null);
  assert.equal(findNonJsonData([], 'context'), null);
});

test('each kind of non-JSON value is named by its path, with what to do', () => {
  const cases: Array<[unknown, RegExp]> = [
    [
      { data: { items: [1, 2, 3, 4n] } },
      /^context\.data\.items\[3\]: BigInt is not JSON data; pass a number or a string$/,
    ],
    [
      { lookup: new Map([['a', 1]]) },
      /^context\.lookup: a Map is not JSON data \(JSON would make it \{\}\); pass Object\.fromEntries\(map\)/,
    ],
    [{ seen: new Set([1]) }, /^context\.seen: a Set is not JSON data .*pass \[\.\.\.set\]$/],
    [{ ratio: Number.NaN }, /^context\.ratio: NaN is not JSON data \(JSON would make it null\)$/],
    [{ limit: Number.POSITIVE_INFINITY }, /^context\.limit: Infinity is not JSON data/],
    [{ format: () => 'x' }, /^context\.format: a function is not JSON data; give the agent a tool instead$/],
    [{ tag: Symbol('t') }, /^context\.tag: a Symbol is not JSON data$/],
    [{ list: [1, undefined] }, /^context\.list\[1\]: undefined in an array is not JSON data .*use null$/],
    [{ when: new Date('nonsense') }, /^context\.when: an invalid Date is not JSON data/],
    [{ bytes: new Uint8Array(2) }, /^context\.bytes: binary data is not JSON data/],
    [
      {
        'odd key': {
          point: new (class Point {
            x = 1;
          })(),
        },
      },
      /^context\["odd key"\]\.point: an instance of Point is not JSON data; pass a plain object$/,
    ],
  ];
  for (const [value, expected] of cases) assert.match(findNonJsonData(value, 'context') ?? 'passed', expected);
});

test('a circular reference names where it points back to; the first problem in reading order is reported', () => {
  const node: Record<string, unknown> = { name: 'root', children: [] };
  (node.children as unknown[]).push({ name: 'child', parent: node });
  assert.equal(
    findNonJsonData({ tree: node }, 'steps[2].context'),
    'steps[2].context.tree.children[0].parent: a circular reference (back to steps[2].context.tree) is not JSON data',
  );
  assert.match(findNonJsonData({ a: 1n, b: 2n }, 'context') ?? '', /^context\.a:/);
});

test('very deep data is walked without overflowing the stack', () => {
  let deep: Record<string, unknown> = { leaf: 1n };
  for (let i = 0; i < 100_000; i++) deep = { next: deep };
  const found = findNonJsonData(deep, 'context') ?? '';
  assert.ok(found.startsWith('context.next.next.'));
  assert.ok(found.endsWith('.leaf: BigInt is not JSON data; pass a number or a string'));
});

test('paths use dot notation for identifiers and brackets for anything else', () => {
  assert.equal(propertyPath('context', 'research'), 'context.research');
  assert.equal(propertyPath('context', 'step-1'), 'context["step-1"]');
  assert.equal(propertyPath('context', '0'), 'context["0"]');
});
