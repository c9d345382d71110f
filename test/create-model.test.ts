// createCodeModel: the model the settings describe (the chain, with record/replay in front when asked for).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCodeModel, LlmChain, loadSettings, NoProviderError } from '../src/index.js';
import { tempDir } from './helpers/temp.js';

const settings = (env: Record<string, string>) => loadSettings({ envFile: false, env });

test('with neither AUTOMESH_RECORD nor AUTOMESH_REPLAY it is the chain itself (no layer on the hot path)', () => {
  const model = createCodeModel(settings({ LLM_ENDPOINT: 'http://127.0.0.1:9', LLM_MODEL: 'm' }));
  assert.ok(model instanceof LlmChain);
  assert.deepEqual(model.models, [{ provider: 'vllm', model: 'm' }]);
});

test("no provider and no replay: NoProviderError naming each provider's variables", () => {
  assert.throws(
    () => createCodeModel(settings({})),
    (err: unknown) => err instanceof NoProviderError && /CLAUDE_API_KEY/.test(err.message),
  );
});

test('a replay needs no provider; an agent route naming an unconfigured provider is left out rather than refused', () => {
  const file = join(tempDir('create-model'), 'calls.jsonl');
  writeFileSync(file, '');
  const model = createCodeModel(settings({ AUTOMESH_REPLAY: file }));
  assert.equal(model.models.length, 0);
  assert.equal(model.route({ order: ['gemini'] }, 'Agent "x"').models.length, 0);
});

test('a missing replay file is the error reported, before the missing providers it stands in for', () => {
  assert.throws(
    () => createCodeModel(settings({ AUTOMESH_REPLAY: '/nonexistent/calls.jsonl' })),
    /no such file\. Record one first with AUTOMESH_RECORD/,
  );
});
