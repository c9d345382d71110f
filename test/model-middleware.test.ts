// Model middleware (wrapModel and `new Mesh({ middleware: { model } })`): around the real provider chain, over
// HTTP to the local wire-protocol server, with agents running real tasks in the sandbox.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AutoAgent,
  defineAgent,
  LlmChain,
  type LlmRequest,
  loadSettings,
  Mesh,
  type ModelMiddleware,
  wrapModel,
} from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const suite = useLlmSuite('model-middleware');

function reply(code: string): string {
  return `Here is a program for that:\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nIt stores the answer in \`result\`.`;
}

function vllmSettings() {
  return { LLM_PROVIDER_ORDER: 'vllm', LLM_ENDPOINT: suite.server.url, LLM_MODEL: 'qwen2.5-coder', LLM_MAX_RETRIES: 0 };
}

function chain(): LlmChain {
  return new LlmChain(
    loadSettings({
      envFile: false,
      env: Object.fromEntries(Object.entries(vllmSettings()).map(([k, v]) => [k, String(v)])),
    }),
  );
}

const ask = (content: string): LlmRequest => ({
  system: 'You write JavaScript.',
  messages: [{ role: 'user', content }],
});

/** A middleware that notes when it is entered and left, under `name`. */
function tracing(name: string, seen: string[]): ModelMiddleware {
  return {
    wrapGenerate: async ({ request, doGenerate }) => {
      seen.push(`${name} in: ${request.messages.at(-1)?.content}`);
      const answer = await doGenerate();
      seen.push(`${name} out: ${answer.provider}`);
      return answer;
    },
  };
}

describe('wrapModel', () => {
  test('with no middleware it is the model itself: nothing is added to a call', () => {
    const model = chain();
    assert.equal(wrapModel(model), model);
    assert.equal(wrapModel(model, {}), model, 'a middleware without wrapGenerate adds no layer');
  });

  test('the first middleware is the outermost; each sees the request and the reply of the real chain', async () => {
    suite.server.script('vllm', { kind: 'text', text: reply('result = 2 + 2;') });
    const seen: string[] = [];
    const model = wrapModel(chain(), tracing('outer', seen), tracing('inner', seen));
    const answer = await model.complete(ask('Calculate 2 + 2'));
    assert.match(answer.text, /result = 2 \+ 2;/);
    assert.deepEqual(seen, [
      'outer in: Calculate 2 + 2',
      'inner in: Calculate 2 + 2',
      'inner out: vllm',
      'outer out: vllm',
    ]);
    assert.deepEqual(
      model.models,
      [{ provider: 'vllm', model: 'qwen2.5-coder' }],
      'the wrapped model tells its providers',
    );
  });

  test('doGenerate(changed) sends the changed request to the provider', async () => {
    suite.server.script('vllm', { kind: 'text', text: reply('result = 3;') });
    const model = wrapModel(chain(), {
      wrapGenerate: ({ request, doGenerate }) =>
        doGenerate({
          ...request,
          messages: [{ role: 'user', content: `${request.messages[0]?.content} (in TypeScript)` }],
        }),
    });
    await model.complete(ask('Calculate 1 + 2'));
    assert.equal(suite.server.requests('vllm')[0]?.messages.at(-1)?.content, 'Calculate 1 + 2 (in TypeScript)');
  });

  test('a middleware that throws fails the call with its error', async () => {
    const model = wrapModel(chain(), {
      wrapGenerate: async () => {
        throw new Error('policy: no calls after 18:00');
      },
    });
    await assert.rejects(model.complete(ask('Calculate 2 + 2')), /policy: no calls after 18:00/);
    assert.equal(suite.server.requests('vllm').length, 0);
  });

  test('a bad middleware is refused with what to pass', () => {
    assert.throws(
      () => wrapModel(chain(), null as unknown as ModelMiddleware),
      /Model middleware 0 must be an object \{ wrapGenerate \}; got null/,
    );
    assert.throws(
      () => wrapModel(chain(), {}, { wrapGenerate: 'yes' } as unknown as ModelMiddleware),
      /Model middleware 1: wrapGenerate must be a function \(\{ request, doGenerate, model \}\) => Promise<LlmReply>/,
    );
  });
});

describe('Mesh middleware.model', () => {
  test("every task's model calls go through it, also an agent's own route; a mesh without middleware calls the chain directly", async () => {
    const seen: string[] = [];
    const mesh = new Mesh({
      config: { ...vllmSettings(), CLAUDE_API_KEY: 'sk-ant-unused-0123456789', LOG_DIRECTORY: suite.logDir },
      middleware: { model: [tracing('mesh', seen)] },
    });
    mesh.add(defineAgent({ role: 'calculator', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
    mesh.add(defineAgent({ role: 'routed', systemPrompt: 'You add numbers.', llm: { order: ['vllm'] } }));
    // Telemetry off: the telemetry middleware is the only layer a mesh adds on its own.
    const plain = new Mesh({ config: { ...vllmSettings(), LOG_DIRECTORY: suite.logDir }, telemetry: false });
    plain.add(
      defineAgent({ role: 'calculator', systemPrompt: 'You are a math expert. Store the answer in `result`.' }),
    );
    await mesh.start();
    await plain.start();
    try {
      suite.server.script(
        'vllm',
        { kind: 'text', text: reply('const n: number = 6 * 7;\nresult = n;') },
        { kind: 'text', text: reply('result = 40 + 2;') },
      );
      const first = await (mesh.getAgent('calculator') as AutoAgent).executeTask({ task: 'Multiply 6 by 7' });
      const second = await (mesh.getAgent('routed') as AutoAgent).executeTask({ task: 'Add 40 and 2' });
      assert.equal(first.output, 42);
      assert.equal(second.output, 42);
      assert.equal(seen.filter((s) => s.startsWith('mesh in')).length, 2, seen.join('\n'));
      assert.ok(
        seen.some((s) => s.includes('Add 40 and 2')),
        "the routed agent's call went through the middleware",
      );
      assert.ok(
        plain.requireRuntime('test').model instanceof LlmChain,
        'no middleware and telemetry off: the runtime calls the chain itself',
      );
    } finally {
      await mesh.stop();
      await plain.stop();
    }
  });

  test('a middleware may answer without the provider: the task runs its code and the server is never called', async () => {
    const cache: ModelMiddleware = {
      wrapGenerate: async () => ({
        text: reply('result = [1, 2, 3].reduce((a: number, b: number) => a + b, 0);'),
        provider: 'vllm',
        model: 'cache',
        tokens: { input: 0, output: 0, total: 0 },
        costUsd: 0,
        unpriced: false,
        tokensEstimated: false,
        durationMs: 0,
        finishReason: 'stop',
        failures: [],
        replayed: false,
      }),
    };
    const mesh = new Mesh({
      config: { ...vllmSettings(), LOG_DIRECTORY: suite.logDir },
      middleware: { model: [cache] },
    });
    mesh.add(defineAgent({ role: 'summer', systemPrompt: 'You add numbers.' }));
    await mesh.start();
    try {
      const envelope = await (mesh.getAgent('summer') as AutoAgent).executeTask({ task: 'Sum 1, 2 and 3' });
      assert.equal(envelope.status, 'success', envelope.error ?? '');
      assert.equal(envelope.output, 6);
      assert.equal(envelope.model, 'cache');
      assert.equal(suite.server.requests('vllm').length, 0);
    } finally {
      await mesh.stop();
    }
  });

  test('a middleware option that is not one is refused at construction', () => {
    assert.throws(
      () => new Mesh({ middleware: { model: [{ wrapGenerate: 1 }] } as never }),
      /Model middleware 0: wrapGenerate must be a function/,
    );
    assert.throws(
      () => new Mesh({ middleware: { models: [] } as never }),
      /middleware has unknown field\(s\) "models"; it takes model and executor/,
    );
    assert.throws(() => new Mesh({ middleware: { executor: {} } as never }), /middleware\.executor must be an array/);
  });
});
