// new Mesh({ storage }): a mesh on an injected storage keeps its results and registry there (nothing under
// LOG_DIRECTORY), two meshes on one storage share the registry, and stop() leaves the injected storage open.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AutoAgent, createMemoryStorage, Mesh, type Storage } from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

class PricingAgent extends AutoAgent {
  static override role = 'pricing';
  static override capabilities = ['prices'];
  static override systemPrompt = 'You compute prices from the context.';
}

const suite = useLlmSuite('storage-mesh');

function config() {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 10,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 1,
    SANDBOX_MEMORY_MB: 64,
    MAX_REPAIR_ATTEMPTS: 0,
    LOG_DIRECTORY: join(suite.logDir, 'unused'),
  };
}

/** A storage that counts close() calls. */
function counted(storage: Storage): Storage & { closes: number } {
  const wrapped = {
    ...storage,
    closes: 0,
    close: async () => {
      wrapped.closes++;
      await storage.close();
    },
  };
  return wrapped;
}

test('a mesh on an injected storage stores there, shares the registry, and does not close it', async () => {
  suite.server.script('vllm', {
    kind: 'text',
    text: 'The total is the sum of the prices:\n\n```ts\nconst prices: number[] = context.prices;\nresult = prices.reduce((a: number, b: number) => a + b, 0);\n```\n',
  });
  const storage = counted(createMemoryStorage());
  const first = new Mesh({ config: config(), storage });
  first.add(PricingAgent);
  await first.start();
  const envelope = await first
    .getAgent('pricing')!
    .executeTask({ task: 'Total the prices', context: { prices: [2, 3, 5] } });
  assert.equal(envelope.status, 'success');
  assert.equal(envelope.output, 10);
  await first.stop();
  assert.equal(storage.closes, 0, 'stop() does not close storage it was given');

  const listed = await storage.results.list();
  assert.deepEqual(
    listed.map((r) => [r.resultId, r.role, r.status]),
    [[envelope.resultId, 'pricing', 'success']],
  );
  assert.equal((await storage.registry.list()).entries.length, 1);
  assert.equal(suite.server.requests().length, 1);

  const second = new Mesh({ config: config(), storage });
  second.add(PricingAgent);
  await second.start();
  try {
    const again = await second
      .getAgent('pricing')!
      .executeTask({ task: 'Total the prices', context: { prices: [1, 1] } });
    assert.equal(again.output, 2);
    assert.equal(again.cached, true, 'the registry of the shared storage answered');
    assert.equal(suite.server.requests().length, 1, 'no second model call');
  } finally {
    await second.stop();
  }
  const root = join(suite.logDir, 'unused');
  const roleDirs = existsSync(root)
    ? readdirSync(root).filter((name) => name === 'pricing' || name === 'registry')
    : [];
  assert.deepEqual(
    roleDirs.filter((name) => existsSync(join(root, name)) && readdirSync(join(root, name)).length > 0),
    [],
    'nothing of the results or registry under LOG_DIRECTORY',
  );
});
