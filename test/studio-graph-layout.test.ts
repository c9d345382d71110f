// Where the studio's page places a workflow's steps: a column per depth, rows in step order, edges to known steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutGraph } from '../studio-web/graph-layout.js';

test('a step sits one column right of its deepest dependency; rows follow step order', () => {
  const { placed, edges } = layoutGraph([
    { stepId: 'fetch', dependsOn: [] },
    { stepId: 'prices', dependsOn: [] },
    { stepId: 'sum', dependsOn: ['fetch'] },
    { stepId: 'report', dependsOn: ['fetch', 'sum', 'prices'] },
  ]);
  assert.deepEqual(
    placed.map((p) => [p.stepId, p.column, p.row]),
    [
      ['fetch', 0, 0],
      ['prices', 0, 1],
      ['sum', 1, 0],
      ['report', 2, 0],
    ],
  );
  assert.deepEqual(edges, [
    { from: 'fetch', to: 'sum' },
    { from: 'fetch', to: 'report' },
    { from: 'sum', to: 'report' },
    { from: 'prices', to: 'report' },
  ]);
});

test('unknown dependencies (an old header) stack in one column; a hand-made cycle does not hang', () => {
  assert.deepEqual(
    layoutGraph([
      { stepId: 'a', dependsOn: null },
      { stepId: 'b', dependsOn: ['gone'] },
    ]).placed.map((p) => [p.column, p.row]),
    [
      [0, 0],
      [0, 1],
    ],
  );
  const cycle = layoutGraph([
    { stepId: 'a', dependsOn: ['b'] },
    { stepId: 'b', dependsOn: ['a'] },
  ]);
  assert.equal(cycle.placed.length, 2);
});
