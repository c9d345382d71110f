// One error base with a marker check (src/core/errors.ts): every error automesh throws on purpose carries a code,
// and the checks that decide what to do use the marker, so an error from another copy of automesh (a custom
// provider built against its own copy, a bundled CLI) is understood as well as one from this copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, UsageError } from '../src/cli/io.js';
import { AgentsFileError } from '../src/cli/load-agents.js';
import {
  type CallOptions,
  type Completion,
  isAutomeshError,
  LlmAbortError,
  LlmChain,
  LlmChainError,
  type LlmRequest,
  loadSettings,
  NoProviderError,
  type Provider,
  ProviderError,
  ReplayMissError,
  resetCooldowns,
  SettingsError,
  WorkflowValidationError,
} from '../src/index.js';
import { RouteError } from '../src/llm/route.js';

test('each error class is an automesh error with its own code, and keeps its name', () => {
  const cases: Array<[Error, string, string]> = [
    [new ProviderError('claude', 'm', 'auth', 'bad key', 401), 'provider-failed', 'ProviderError'],
    [new LlmChainError([], ['claude']), 'llm-failed', 'LlmChainError'],
    [new LlmAbortError(), 'cancelled', 'AbortError'],
    [new NoProviderError(['claude']), 'no-provider', 'NoProviderError'],
    [new SettingsError('bad', ['x']), 'invalid-settings', 'SettingsError'],
    [new RouteError('bad route'), 'invalid-route', 'RouteError'],
    [new ReplayMissError('miss', 'k'), 'replay-miss', 'ReplayMissError'],
    [new WorkflowValidationError('w', ['p']), 'invalid-workflow', 'WorkflowValidationError'],
    [new CliError('c'), 'cli', 'CliError'],
    [new UsageError('u'), 'usage', 'UsageError'],
    [new AgentsFileError('a'), 'agents-file', 'AgentsFileError'],
  ];
  for (const [error, code, name] of cases) {
    assert.ok(isAutomeshError(error, code), `${name} has code ${code}`);
    assert.equal(error.name, name);
  }
  assert.equal(isAutomeshError(new Error('plain')), false);
});

test('a ProviderError from another copy of automesh is classified by its kind: a rate limit is retried, not failed over', async () => {
  resetCooldowns();
  const copy = (await import('../src/llm/errors.ts?second-copy')) as typeof import('../src/llm/errors.js');
  const foreign = new copy.ProviderError('vllm', 'local-model', 'rate_limit', 'slow down', 429);
  assert.equal(foreign instanceof ProviderError, false, 'instanceof is false across copies');
  let calls = 0;
  const provider: Provider = {
    name: 'vllm',
    model: 'local-model',
    endpoint: 'custom://in-process',
    async complete(_request: LlmRequest, _options: CallOptions): Promise<Completion> {
      calls++;
      if (calls < 3) throw foreign;
      return {
        text: 'Here:\n\n```javascript\nresult = 4;\n```',
        model: 'local-model',
        inputTokens: 10,
        outputTokens: 5,
        finishReason: 'stop',
      };
    },
  };
  const settings = loadSettings({ envFile: false, env: { LLM_MAX_RETRIES: '2' } });
  const reply = await new LlmChain(settings, { providers: [provider], backoff: { baseMs: 1, maxMs: 5 } }).complete({
    system: 's',
    messages: [{ role: 'user', content: 'Calculate 2 + 2' }],
  });
  assert.equal(calls, 3, 'two rate limits retried, the third try answered');
  assert.deepEqual(
    reply.failures.map((f) => [f.kind, f.status]),
    [
      ['rate_limit', 429],
      ['rate_limit', 429],
    ],
  );
  resetCooldowns();
});
