// Executor middleware (wrapExecutor and `new Mesh({ middleware: { executor } })`): around the real worker-pool
// sandbox, and around every execution of a mesh's tasks, registry hits included.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AutoAgent,
  defineAgent,
  type ExecutionResult,
  Executor,
  type ExecutorMiddleware,
  Mesh,
  wrapExecutor,
} from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const suite = useLlmSuite('executor-middleware');
let executor: Executor;

before(async () => {
  executor = new Executor({ workers: 1, limits: { timeoutMs: 5000, memoryMb: 64 } });
  await executor.warm();
});

after(() => executor.close());

function noting(name: string, seen: string[]): ExecutorMiddleware {
  return {
    wrapExecute: async ({ request, doExecute }) => {
      seen.push(`${name} in: ${request.code}`);
      const result = await doExecute();
      seen.push(`${name} out: ${result.status}`);
      return result;
    },
  };
}

describe('wrapExecutor', () => {
  test('with no middleware it is the executor itself', () => {
    assert.equal(wrapExecutor(executor), executor);
    assert.equal(wrapExecutor(executor, {}), executor);
  });

  test('the first middleware is the outermost; both see the real run', async () => {
    const seen: string[] = [];
    const wrapped = wrapExecutor(executor, noting('outer', seen), noting('inner', seen));
    const result = await wrapped.execute({ code: 'result = 6 * 7' });
    assert.equal(result.output, 42);
    assert.deepEqual(seen, [
      'outer in: result = 6 * 7',
      'inner in: result = 6 * 7',
      'inner out: success',
      'outer out: success',
    ]);
  });

  test('doExecute(changed) runs the changed request; the result may be changed on the way back', async () => {
    const wrapped = wrapExecutor(executor, {
      wrapExecute: async ({ request, doExecute }) => {
        const result = await doExecute({ ...request, context: { ...(request.context as object), bonus: 1 } });
        return { ...result, logs: [...result.logs, '[policy] checked'] };
      },
    });
    const result = await wrapped.execute({
      code: 'console.log("n", context.n)\nresult = context.n + context.bonus',
      context: { n: 41 },
    });
    assert.equal(result.output, 42);
    assert.deepEqual(result.logs, ['n 41', '[policy] checked']);
  });

  test('warm and close reach the executor underneath', async () => {
    const own = new Executor({ workers: 1 });
    const wrapped = wrapExecutor(own, noting('x', []));
    await wrapped.warm();
    assert.equal(own.workersStarted, 1);
    await wrapped.close();
    await assert.rejects(own.execute({ code: 'result = 1' }), /closed/i);
  });

  test('a bad middleware is refused with what to pass', () => {
    assert.throws(
      () => wrapExecutor(executor, { wrapExecute: {} } as unknown as ExecutorMiddleware),
      /Executor middleware 0: wrapExecute must be a function \(\{ request, doExecute, executor \}\) => Promise<ExecutionResult>/,
    );
  });
});

describe('Mesh middleware.executor', () => {
  test('sees every execution of a task: the generated code, its repair, and a registry hit later', async () => {
    const results: ExecutionResult[] = [];
    const codes: string[] = [];
    const keep: ExecutorMiddleware = {
      wrapExecute: async ({ request, doExecute }) => {
        codes.push(request.code);
        const result = await doExecute();
        results.push(result);
        return result;
      },
    };
    const mesh = new Mesh({
      config: {
        LLM_PROVIDER_ORDER: 'vllm',
        LLM_ENDPOINT: suite.server.url,
        LLM_MODEL: 'qwen2.5-coder',
        LLM_MAX_RETRIES: 0,
        LOG_DIRECTORY: suite.logDir,
      },
      middleware: { executor: [keep] },
    });
    mesh.add(defineAgent({ role: 'squarer', systemPrompt: 'You square numbers. Store the answer in `result`.' }));
    await mesh.start();
    try {
      suite.server.script(
        'vllm',
        { kind: 'text', text: 'Here you go:\n\n```javascript\nresult = square(context.n);\n```' },
        {
          kind: 'text',
          text: 'Sorry, `square` was not defined. Fixed:\n\n```typescript\nconst n: number = context.n;\nresult = n * n;\n```',
        },
      );
      const agent = mesh.getAgent('squarer') as AutoAgent;
      const first = await agent.executeTask({ task: 'Square the number in context.n', context: { n: 9 } });
      assert.equal(first.output, 81);
      assert.equal(first.repairs, 1);
      await mesh.registry.settled();
      const again = await agent.executeTask({ task: 'Square the number in context.n', context: { n: 12 } });
      assert.equal(again.cached, true);
      assert.equal(again.output, 144);
      assert.deepEqual(
        results.map((r) => r.errorCategory ?? r.output),
        ['runtime', 81, 144],
      );
      assert.match(codes[0] ?? '', /square\(context\.n\)/);
      assert.equal(codes[2], codes[1], 'the registry hit ran the repaired code');
    } finally {
      await mesh.stop();
    }
  });
});
