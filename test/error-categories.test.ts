// The one table of error categories (src/core/error-categories.ts): the categories the envelope, the sandbox and the
// docs use, which ones the repair loop sends back to the model, and the hints people get.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import {
  type AutoAgent,
  categoryHint,
  defineAgent,
  ERROR_CATEGORIES,
  ERROR_CATEGORY_NAMES,
  type ExecutionErrorCategory,
  Executor,
  isRepairable,
  Mesh,
} from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const suite = useLlmSuite('error-categories');

test("the table holds the fifteen categories of the envelope; the sandbox's are those that arise in execution", () => {
  assert.deepEqual(ERROR_CATEGORY_NAMES, [
    'syntax',
    'runtime',
    'timeout',
    'memory',
    'no_result',
    'output',
    'schema',
    'tool',
    'llm',
    'budget',
    'dependency',
    'crashed',
    'cancelled',
    'mesh',
    'storage',
  ]);
  const execution = ERROR_CATEGORY_NAMES.filter((c) => ERROR_CATEGORIES[c].arises === 'execution');
  assert.deepEqual(execution, ['syntax', 'runtime', 'timeout', 'memory', 'no_result', 'output', 'tool', 'crashed']);
});

test('what the code did is repaired; what ended the task from outside is not', () => {
  assert.deepEqual(ERROR_CATEGORY_NAMES.filter(isRepairable), [
    'syntax',
    'runtime',
    'timeout',
    'memory',
    'no_result',
    'output',
    'schema',
    'tool',
    'crashed',
  ]);
});

test('every category has a hint that says what to do; anything else has none', () => {
  for (const category of ERROR_CATEGORY_NAMES) assert.ok((categoryHint(category) ?? '').length > 40, category);
  assert.match(categoryHint('llm') ?? '', /automesh check --validate-llm/);
  assert.match(categoryHint('memory') ?? '', /SANDBOX_MEMORY_MB/);
  assert.equal(categoryHint('toString'), null);
  assert.equal(categoryHint(null), null);
});

test('the sandbox reports only execution categories, each with a real run', async () => {
  const executor = new Executor({ workers: 1, limits: { timeoutMs: 400, memoryMb: 16 } });
  try {
    const runs: Array<[string, string]> = [
      ['result = (', 'syntax'],
      ['throw new Error("x")', 'runtime'],
      ['while (true) {}', 'timeout'],
      ['const keep = []\nwhile (true) keep.push(new Array(1e5).fill(1))', 'memory'],
      ['const x = 1', 'no_result'],
      ['result = () => 1', 'output'],
    ];
    for (const [code, expected] of runs) {
      // Filling 16 MB takes a few ms alone but can take longer than 400 ms on a loaded machine (GC): the memory run
      // gets time enough that only the heap limit can end it.
      const limits = expected === 'memory' ? { timeoutMs: 10_000 } : {};
      const r = await executor.execute({ code, limits });
      assert.equal(r.errorCategory, expected, code);
      assert.equal(ERROR_CATEGORIES[r.errorCategory as ExecutionErrorCategory].arises, 'execution');
    }
  } finally {
    await executor.close();
  }
});

test('the repair loop asks the table: a schema failure is repaired, then the task succeeds', async () => {
  const mesh = new Mesh({
    config: {
      LLM_PROVIDER_ORDER: 'vllm',
      LLM_ENDPOINT: suite.server.url,
      LLM_MODEL: 'qwen2.5-coder',
      LLM_MAX_RETRIES: 0,
      LOG_DIRECTORY: suite.logDir,
    },
  });
  mesh.add(
    defineAgent({ role: 'counter', systemPrompt: 'You count things.', outputSchema: z.object({ count: z.number() }) }),
  );
  await mesh.start();
  try {
    suite.server.script(
      'vllm',
      { kind: 'text', text: 'Sure:\n\n```javascript\nresult = context.items.length;\n```' },
      {
        kind: 'text',
        text: 'You want an object, my mistake:\n\n```typescript\nconst count: number = context.items.length;\nresult = { count };\n```',
      },
    );
    const envelope = await (mesh.getAgent('counter') as AutoAgent).executeTask({
      task: 'Count the items',
      context: { items: [1, 2, 3] },
    });
    assert.equal(envelope.status, 'success', envelope.error ?? '');
    assert.deepEqual(envelope.output, { count: 3 });
    assert.deepEqual(
      envelope.attempts.map((a) => a.errorCategory),
      ['schema', null],
    );
    assert.match(suite.server.requests('vllm')[1]?.messages.at(-1)?.content ?? '', /The error \(schema\):/);
  } finally {
    await mesh.stop();
  }
});
