// The quick shape checks of records before a write or after a read (src/storage/record-checks.ts): what they pass,
// the zod schema passes too (so skipping zod changes nothing), and the records the engine writes do pass them (so
// zod is skipped).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import type { z } from 'zod';
import { surelyRegistryEntry, surelyStepRecord, surelyStoredResult } from '../src/storage/record-checks.js';
import {
  decodeRegistryEntry,
  decodeStepRecord,
  decodeStoredResult,
  registryEntrySchema,
  stepRecordSchema,
  storedResultSchema,
} from '../src/storage/schemas.js';

const HASH = 'ab'.repeat(32);

const envelope = {
  status: 'success',
  output: { total: 3 },
  code: 'result = 1 + 2;',
  repairs: 0,
  executionTime: 0.01,
  tokens: { input: 10, output: 5, total: 15 },
  costUsd: 0,
  resultId: 'r1',
  functionId: null,
  error: null,
  errorCategory: null,
  attempts: [{ code: 'result = 1 + 2;', error: null }],
  cached: false,
  logs: ['hello'],
  agentId: 'calculator',
  role: 'calculator',
  provider: 'vllm',
  model: 'm',
};

const result = {
  resultId: 'mx5s4am2-c9478c68ad',
  role: 'calculator',
  task: 'Add 1 and 2',
  createdAt: '2026-12-02T07:03:07.800Z',
  promptHashes: { agentSystemPrompt: HASH, tools: HASH },
  envelope,
};

const entry = {
  id: 'fn_ab1831da4295e465',
  role: 'calculator',
  task: 'Add 1 and 2',
  normalizedTask: 'add 1 and 2',
  taskKey: HASH,
  systemPromptHash: HASH,
  contextShapeHash: HASH,
  toolsHash: HASH,
  outputSchemaHash: HASH,
  capabilities: ['math'],
  code: 'result = 1 + 2;',
  provenance: { provider: 'vllm', model: 'm', resultId: 'r1', createdAt: '2026-12-02T07:03:07.800Z' },
  successCount: 1,
  failureCount: 0,
  stage: 'candidate',
  lastUsedAt: null,
  lastError: null,
};

const step = {
  stepId: 'p0',
  index: 0,
  role: 'calculator',
  task: 'Add 1 and 2',
  specHash: HASH,
  status: 'success',
  envelope,
  startedAt: '2026-12-02T07:03:07.800Z',
  finishedAt: '2026-12-02T07:03:07.900Z',
};

class Box {
  a = 'x';
}

/** Values put in place of each field, one at a time: the types, edges and look-alikes a caller bug could produce. */
function oddValues(): unknown[] {
  const withSymbol = { a: 'x', [Symbol('s')]: 'y' };
  const hidden = { a: 'x' };
  Object.defineProperty(hidden, 'b', { value: 1, enumerable: false });
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'x' });
  // biome-ignore lint/suspicious/noSparseArray: a hole is one of the odd values
  const sparse = [, 'a'];
  return [
    undefined,
    null,
    '',
    'x',
    HASH,
    HASH.toUpperCase(),
    0,
    -0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    true,
    [],
    ['a'],
    [1],
    sparse,
    {},
    { a: 'x' },
    { a: 1 },
    withSymbol,
    hidden,
    bare,
    new Box(),
    new Date(0),
    new String('x'),
    'candidate',
    'golden',
    'running',
    'pending',
    'nope',
  ];
}

/** The record with `path` set to `value` (or removed when `remove`), copied so the original stays. */
function variant(record: Record<string, unknown>, path: string[], value: unknown, remove: boolean): unknown {
  const copy: Record<string, unknown> = { ...record };
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length > 0) copy[key] = variant(copy[key] as Record<string, unknown>, rest, value, remove);
  else if (remove) delete copy[key];
  else copy[key] = value;
  return copy;
}

function paths(record: Record<string, unknown>, nested: string[]): string[][] {
  return [
    ...Object.keys(record).map((k) => [k]),
    ...nested.flatMap((n) => Object.keys(record[n] as object).map((k) => [n, k])),
    ['extra'],
  ];
}

function checkImplies(
  name: string,
  surely: (value: unknown) => boolean,
  schema: z.ZodType,
  record: Record<string, unknown>,
  nested: string[],
): number {
  let passedQuick = 0;
  const wholes = [record, ...oddValues(), Object.assign(Object.create(null) as object, record)];
  for (const whole of wholes) {
    if (surely(whole)) {
      passedQuick++;
      assert.ok(schema.safeParse(whole).success, `${name}: quick check passed a record zod refuses`);
    }
  }
  for (const path of paths(record, nested)) {
    for (const remove of [true, false]) {
      for (const value of remove ? [undefined] : oddValues()) {
        const candidate = variant(record, path, value, remove);
        if (!surely(candidate)) continue;
        passedQuick++;
        const parsed = schema.safeParse(candidate);
        assert.ok(
          parsed.success,
          `${name}: quick check passed ${path.join('.')} = ${remove ? '(removed)' : inspect(value)}, which zod refuses`,
        );
      }
    }
  }
  return passedQuick;
}

describe('quick record checks', () => {
  test('the records the engine writes pass them', () => {
    assert.equal(surelyStoredResult(result), true);
    assert.equal(surelyRegistryEntry(entry), true);
    assert.equal(surelyRegistryEntry({ ...entry, contextShapeHash: undefined, lastUsedAt: '2026-12-02' }), true);
    assert.equal(surelyStepRecord(step), true);
    assert.equal(surelyStepRecord({ ...step, status: 'running', envelope: null, finishedAt: null }), true);
  });

  test('what passes a quick check passes its schema, field by field and value by value', () => {
    assert.ok(checkImplies('result', surelyStoredResult, storedResultSchema, result, ['promptHashes', 'envelope']) > 1);
    assert.ok(checkImplies('entry', surelyRegistryEntry, registryEntrySchema, entry, ['provenance']) > 1);
    assert.ok(checkImplies('step', surelyStepRecord, stepRecordSchema, step, ['envelope']) > 1);
  });

  test('they refuse what the schemas refuse, so zod explains it', () => {
    assert.equal(surelyStoredResult({ ...result, envelope: [] }), false);
    assert.equal(surelyStoredResult({ ...result, promptHashes: { a: 1 } }), false);
    assert.equal(surelyRegistryEntry({ ...entry, taskKey: 'not-a-hash' }), false);
    assert.equal(surelyRegistryEntry({ ...entry, successCount: -1 }), false);
    assert.equal(surelyRegistryEntry({ ...entry, stage: 'retired' }), false);
    assert.equal(surelyStepRecord({ ...step, index: 1.5 }), false);
    assert.equal(surelyStepRecord({ ...step, startedAt: '' }), false);
  });

  test('a record read back that passes its check is decoded as parsed, without a copy; any other is still explained', () => {
    const read = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
    for (const [decode, record] of [
      [decodeStoredResult, result],
      [decodeRegistryEntry, entry],
      [decodeStepRecord, step],
    ] as Array<[(data: unknown) => unknown, object]>) {
      const parsed = read(record);
      // The same object back: the zod parse, which copies, was skipped.
      assert.equal(decode(parsed), parsed);
      assert.deepEqual(decode(parsed), record);
    }
    assert.throws(() => decodeRegistryEntry(read({ ...entry, taskKey: 'not-a-hash' })), /taskKey: .*sha256/);
    assert.throws(() => decodeStepRecord(read({ ...step, index: 1.5 })), /index:/);
    assert.throws(() => decodeStoredResult(read({ ...result, envelope: [] })), /envelope:/);
  });
});
