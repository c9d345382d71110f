// Per-agent providers and models, and budgets, end to end: the real SDKs over HTTP against the local
// wire-protocol server, the real sandbox and storage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AutoAgent, defineAgent, type Envelope, Mesh, resetCooldowns } from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const CLAUDE_KEY = 'sk-ant-agent-llm-test-0123456789abcdef';

/** Claude (sonnet) and a vLLM server are configured; Gemini and Azure are not. */
function config(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'claude,vllm',
    CLAUDE_API_KEY: CLAUDE_KEY,
    CLAUDE_ENDPOINT: suite.server.anthropicBaseUrl,
    CLAUDE_MODEL: 'claude-sonnet-4-6',
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder-32b',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 5,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_MEMORY_MB: 64,
    SANDBOX_WORKERS: 1,
    REGISTRY_REUSE: false,
    LOG_DIRECTORY: suite.logDir,
    ...extra,
  };
}

function reply(code: string, lang = 'ts'): string {
  return `Here is the code:\n\n\`\`\`${lang}\n${code}\n\`\`\`\n\nIt stores the answer in \`result\`.`;
}

const SUM = reply('const values: number[] = [1, 2, 3, 4];\nresult = values.reduce((a, b) => a + b, 0);');

class WriterAgent extends AutoAgent {
  static override role = 'writer';
  static override capabilities = ['writing'];
  static override systemPrompt = 'You write short texts. Store the text in `result`.';
  static override llm = { order: ['claude' as const], models: { claude: 'claude-opus-4-6' } };
}

const suite = useLlmSuite('agent-llm');

async function withMesh(
  extra: Record<string, string | number | boolean>,
  add: (mesh: Mesh) => void,
  body: (mesh: Mesh) => Promise<void>,
): Promise<void> {
  const mesh = new Mesh({ config: config(extra) });
  add(mesh);
  await mesh.start();
  try {
    await body(mesh);
  } finally {
    await mesh.stop();
  }
}

const agent = (mesh: Mesh, role: string) => mesh.getAgent(role) as AutoAgent;

describe('per-agent providers and models', () => {
  test('each agent calls its own providers and models, priced from the table; the envelope says which', async () => {
    await withMesh(
      {},
      (mesh) => {
        mesh.add(
          defineAgent({ role: 'default', systemPrompt: 'You are a math expert. Store the answer in `result`.' }),
        );
        mesh.add(
          defineAgent({
            role: 'cheap',
            systemPrompt: 'You add numbers. Store the answer in `result`.',
            llm: { order: ['vllm', 'claude'], models: { vllm: 'qwen2.5-coder-7b', claude: 'claude-haiku-4-5' } },
          }),
        );
        mesh.add(WriterAgent);
      },
      async (mesh) => {
        suite.server.respond('claude', () => ({ kind: 'text', text: SUM, inputTokens: 1000, outputTokens: 100 }));
        suite.server.respond('vllm', () => ({ kind: 'text', text: SUM, inputTokens: 1000, outputTokens: 100 }));

        const byDefault = await agent(mesh, 'default').executeTask({ task: 'Sum 1 to 4' });
        const cheap = await agent(mesh, 'cheap').executeTask({ task: 'Sum 1 to 4' });
        const writer = await agent(mesh, 'writer').executeTask({ task: 'Sum 1 to 4' });

        assert.equal(byDefault.status, 'success', byDefault.error ?? '');
        assert.deepEqual([byDefault.provider, byDefault.model], ['claude', 'claude-sonnet-4-6']);
        assert.equal(byDefault.costUsd, (1000 * 3 + 100 * 15) / 1e6);

        assert.equal(cheap.status, 'success', cheap.error ?? '');
        assert.deepEqual([cheap.provider, cheap.model], ['vllm', 'qwen2.5-coder-7b']);
        assert.deepEqual([cheap.attempts[0]?.provider, cheap.attempts[0]?.model], ['vllm', 'qwen2.5-coder-7b']);
        assert.equal(cheap.costUsd, 0, 'a self-hosted model not in the table costs 0');

        assert.equal(writer.status, 'success', writer.error ?? '');
        assert.deepEqual([writer.provider, writer.model], ['claude', 'claude-opus-4-6']);
        assert.equal(writer.costUsd, (1000 * 5 + 100 * 25) / 1e6, 'the static llm model, priced from the table');

        const models = suite.server.requests().map((r) => `${r.provider}:${r.model}`);
        assert.deepEqual(models, ['claude:claude-sonnet-4-6', 'vllm:qwen2.5-coder-7b', 'claude:claude-opus-4-6']);
      },
    );
  });

  test('an agent fails over only within its own order; an unpriced model costs null', async () => {
    await withMesh(
      {},
      (mesh) => {
        mesh.add(
          defineAgent({
            role: 'haiku-first',
            systemPrompt: 'You add numbers. Store the answer in `result`.',
            llm: { order: ['claude'], models: { claude: 'claude-haiku-4-5' } },
          }),
        );
        mesh.add(
          defineAgent({
            role: 'experimental',
            systemPrompt: 'You add numbers. Store the answer in `result`.',
            llm: { models: { claude: 'claude-experimental-9' } },
          }),
        );
      },
      async (mesh) => {
        suite.server.respond('vllm', () => ({ kind: 'text', text: SUM }));
        suite.server.script('claude', { kind: 'error', status: 401, message: 'invalid x-api-key' });
        const failed = await agent(mesh, 'haiku-first').executeTask({ task: 'Sum 1 to 4' });
        assert.equal(failed.status, 'failure');
        assert.equal(failed.errorCategory, 'llm');
        assert.match(failed.error ?? '', /claude \(claude-haiku-4-5\): auth 401/);
        assert.deepEqual([failed.attempts[0]?.provider, failed.attempts[0]?.model], ['claude', 'claude-haiku-4-5']);
        assert.equal(suite.server.requests('vllm').length, 0, "vllm is configured, but not in this agent's order");

        resetCooldowns();
        suite.server.script('claude', { kind: 'text', text: SUM, inputTokens: 500, outputTokens: 50 });
        const unpriced = await agent(mesh, 'experimental').executeTask({ task: 'Sum 1 to 4' });
        assert.equal(unpriced.status, 'success', unpriced.error ?? '');
        assert.deepEqual([unpriced.provider, unpriced.model], ['claude', 'claude-experimental-9']);
        assert.equal(unpriced.costUsd, null);
        assert.deepEqual(unpriced.tokens, { input: 500, output: 50, total: 550 });
      },
    );
  });

  test('a provider that is not configured stops mesh.start(), naming the agent, the provider and the setting', async () => {
    const mesh = new Mesh({ config: config() });
    mesh.add(defineAgent({ role: 'calc', systemPrompt: 'Math.' }));
    mesh.add(defineAgent({ role: 'flash', systemPrompt: 'Math.', llm: { order: ['vllm', 'gemini'] } }));
    await assert.rejects(mesh.start(), (err: Error) => {
      assert.match(
        err.message,
        /Agent "flash" names provider "gemini" in its llm\.order, but gemini is not configured/,
      );
      assert.match(err.message, /set GEMINI_API_KEY/);
      return true;
    });
    assert.equal(mesh.started, false);
  });

  test('llm.order and llm.models take the provider aliases LLM_PROVIDER_ORDER takes', () => {
    const agent = defineAgent({
      role: 'x',
      systemPrompt: 'Math.',
      llm: { order: ['openai', 'Anthropic'] as never, models: { google: 'g' } as never },
    });
    assert.deepEqual(new Mesh().add(agent).getAgent('x')?.definition.llm, {
      order: ['vllm', 'claude'],
      models: { gemini: 'g' },
    });
  });

  test('an unknown provider name or a bad llm field fails when the agent is defined', () => {
    assert.throws(
      () => defineAgent({ role: 'x', systemPrompt: 'Math.', llm: { order: ['mistral' as 'vllm'] } }),
      /Invalid agent \(role "x"\): llm names unknown provider "mistral"; the providers are claude, vllm, azure, gemini/,
    );
    assert.throws(
      () => defineAgent({ role: 'x', systemPrompt: 'Math.', llm: { models: { mistral: 'large' } as never } }),
      /unknown provider "mistral"/,
    );
    assert.throws(
      () => defineAgent({ role: 'x', systemPrompt: 'Math.', llm: { order: [] } }),
      /llm\.order must name at least one provider/,
    );
    class Bad extends AutoAgent {
      static override role = 'bad';
      static override systemPrompt = 'Math.';
      static override llm = { order: ['claude' as const], model: 'x' } as never;
    }
    assert.throws(() => new Mesh().add(Bad), /Invalid agent class Bad \(role "bad"\): .*"model"/);
  });
});

describe('budgets', () => {
  // Each call's estimate: the prompt (about 1900 bytes here, so ~650 tokens) plus LLM_MAX_TOKENS=1000 output
  // tokens at Sonnet's $3/$15 per million: about $0.017.
  const broken = reply('const values: number[] = context.values;\nresult = values.reduce((a, b) => a + b, 0);');
  const expensive = { inputTokens: 400, outputTokens: 900 }; // 400*3 + 900*15 = $0.0147
  const spent = (400 * 3 + 900 * 15) / 1e6;

  test('MAX_TASK_COST_USD: a repair that would exceed what is left is not made; the task ends with budget', async () => {
    await withMesh(
      { MAX_TASK_COST_USD: 0.03, LLM_MAX_TOKENS: 1000, LLM_PROVIDER_ORDER: 'claude' },
      (mesh) => {
        mesh.add(defineAgent({ role: 'calc', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
      },
      async (mesh) => {
        suite.server.respond('claude', () => ({ kind: 'text', text: broken, ...expensive }));
        const r = await agent(mesh, 'calc').executeTask({ task: 'Sum the values' });
        assert.equal(r.status, 'failure');
        assert.equal(r.errorCategory, 'budget');
        assert.equal(suite.server.requests('claude').length, 1, 'the repair call was not made');
        assert.equal(r.repairs, 0);
        assert.equal(r.costUsd, spent, 'the real cost of the call that was made');
        assert.match(
          r.error ?? '',
          /The budget is spent: the next model call was not made\. It was estimated at \$0\.0\d+ \(about \d+ prompt tokens and up to 1000 output tokens on claude model "claude-sonnet-4-6"\), but only \$0\.0153 is left of MAX_TASK_COST_USD \(\$0\.03\): \$0\.0147 was spent\./,
        );
        assert.match(r.error ?? '', /The last code failed with runtime/);
        assert.equal(r.attempts.at(-1)?.errorCategory, 'budget');
        assert.match(r.code ?? '', /context\.values/);
      },
    );
  });

  test('executeTask({ budgetUsd }) overrides MAX_TASK_COST_USD, down and up', async () => {
    await withMesh(
      { MAX_TASK_COST_USD: 0.001, LLM_MAX_TOKENS: 1000, LLM_PROVIDER_ORDER: 'claude' },
      (mesh) => {
        mesh.add(defineAgent({ role: 'calc', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
      },
      async (mesh) => {
        suite.server.respond('claude', () => ({ kind: 'text', text: SUM, inputTokens: 600, outputTokens: 40 }));
        const refused = await agent(mesh, 'calc').executeTask({ task: 'Sum 1 to 4' });
        assert.equal(refused.errorCategory, 'budget');
        assert.match(refused.error ?? '', /only \$0\.001 is left of MAX_TASK_COST_USD \(\$0\.001\): \$0 was spent/);
        assert.equal(refused.code, null);
        assert.equal(refused.costUsd, 0);
        assert.equal(suite.server.requests().length, 0, 'no call was made');

        const allowed = await agent(mesh, 'calc').executeTask({ task: 'Sum 1 to 4', budgetUsd: 0.05 });
        assert.equal(allowed.status, 'success', allowed.error ?? '');
        assert.equal(allowed.output, 10);

        const tiny = await agent(mesh, 'calc').executeTask({ task: 'Sum 1 to 4', budgetUsd: 0.0001 });
        assert.equal(tiny.errorCategory, 'budget');
        assert.match(tiny.error ?? '', /of the task budget \(budgetUsd\) \(\$0\.0001\)/);
        assert.equal(suite.server.requests().length, 1);
        await assert.rejects(
          agent(mesh, 'calc').executeTask({ task: 'Sum 1 to 4', budgetUsd: -1 }),
          /executeTask budgetUsd must be a number of US dollars, 0 or more; got -1/,
        );
      },
    );
  });

  test('a budget with an unpriced model is refused at start: mesh.start, executeTask and workflow', async () => {
    const unpricedAgent = defineAgent({
      role: 'exp',
      systemPrompt: 'Math.',
      llm: { models: { claude: 'claude-experimental-9' } },
    });
    const mesh = new Mesh({ config: config({ MAX_TASK_COST_USD: 1 }) });
    mesh.add(unpricedAgent);
    await assert.rejects(
      mesh.start(),
      /MAX_TASK_COST_USD cannot bound what agent "exp" spends: claude model "claude-experimental-9" has no price in the price table, .*Add the model to the price table \(LLM_PRICES_FILE, USD per million tokens\) or drop the budget\./,
    );

    await withMesh(
      {},
      (m) => m.add(unpricedAgent),
      async (m) => {
        await assert.rejects(
          agent(m, 'exp').executeTask({ task: 'Sum 1 to 4', budgetUsd: 1 }),
          /the task budget \(budgetUsd\) cannot bound what agent "exp" spends: claude model "claude-experimental-9" has no price/,
        );
        await assert.rejects(
          m.workflow('wf-unpriced', [{ agent: 'exp', task: 'Sum 1 to 4' }], { budgetUsd: 1 }),
          /the budget of workflow "wf-unpriced" \(budgetUsd\) cannot bound what agent "exp" spends/,
        );
        assert.equal(suite.server.requests().length, 0);
      },
    );
  });

  test('a workflow budget is shared: the step that cannot pay ends with budget, the rest are skipped', async () => {
    await withMesh(
      { LLM_MAX_TOKENS: 1000, LLM_PROVIDER_ORDER: 'claude' },
      (mesh) => {
        mesh.add(defineAgent({ role: 'calc', systemPrompt: 'You are a math expert. Store the answer in `result`.' }));
      },
      async (mesh) => {
        suite.server.respond('claude', () => ({ kind: 'text', text: SUM, ...expensive }));
        const failed: Envelope[] = [];
        const onFailed = ({ envelope }: { envelope: Envelope }) => failed.push(envelope);
        mesh.on('step:failed', onFailed);
        const results = await mesh.workflow(
          'budgeted',
          [
            { id: 'first', agent: 'calc', task: 'Sum 1 to 4' },
            { id: 'second', agent: 'calc', task: 'Sum 1 to 4 again', dependsOn: ['first'] },
            { id: 'third', agent: 'calc', task: 'Sum 1 to 4 once more', dependsOn: ['second'] },
            { id: 'fourth', agent: 'calc', task: 'Sum 1 to 4 at the end', dependsOn: ['first'] },
          ],
          { budgetUsd: 0.03, concurrency: 1, fresh: true },
        );
        mesh.off('step:failed', onFailed);

        const [first, second, third, fourth] = results;
        assert.equal(first?.status, 'success', first?.error ?? '');
        assert.equal(second?.status, 'failure');
        assert.equal(second?.errorCategory, 'budget');
        assert.match(
          second?.error ?? '',
          /left of the budget of workflow "budgeted" \(budgetUsd\) \(\$0\.03\): \$0\.0147 was spent/,
        );
        for (const skipped of [third, fourth]) {
          assert.equal(skipped?.status, 'skipped');
          assert.equal(skipped?.errorCategory, 'budget');
          assert.match(
            skipped?.error ?? '',
            /Skipped: the budget of workflow "budgeted" \(budgetUsd\) ran out before this step started\. The budget is spent/,
          );
        }
        assert.equal(suite.server.requests().length, 1, 'one call was paid for, no other was made');
        assert.equal(results.summary.costUsd, spent);
        assert.deepEqual(
          failed.map((e) => e.stepId),
          ['second'],
        );
      },
    );
  });
});
