// Prometheus metrics (prom-client), per mesh: tasks run against the scripted LLM server through the real SDKs, then
// the node's METRICS_PORT endpoint is scraped over real HTTP and its values parsed. Two meshes in one process keep
// their counts apart; a bad METRICS_PORT and a port in use are clear errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createMemoryStorage, defineAgent, loadSettings, Mesh, metricsRequestHandler } from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';

const suite = useLlmSuite('telemetry-metrics');

const CLAUDE_MODEL = 'claude-sonnet-4-6';

function reply(code: string): string {
  return `Here is the program:\n\n\`\`\`javascript\n${code}\n\`\`\`\n`;
}

function config(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'claude,vllm',
    CLAUDE_API_KEY: 'sk-ant-test-key-for-metrics',
    CLAUDE_ENDPOINT: suite.server.anthropicBaseUrl,
    CLAUDE_MODEL,
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_MAX_RETRIES: 0,
    LLM_COOLDOWN: 0,
    MAX_REPAIR_ATTEMPTS: 1,
    LOG_DIRECTORY: suite.logDir,
    SANDBOX_WORKERS: 1,
    METRICS_PORT: 0,
    ...extra,
  };
}

const adder = defineAgent({ role: 'adder', capabilities: ['math'], systemPrompt: 'You write JavaScript.' });

type Samples = Map<string, number>;

/** `name{a="x",b="y"}` with the labels sorted, as the key of one sample. */
function key(name: string, labels: Record<string, string> = {}): string {
  const inner = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return inner ? `${name}{${inner}}` : name;
}

/** Parses the Prometheus text exposition into samples. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const [, name, body, value] = match as unknown as [string, string, string | undefined, string];
    const labels = Object.fromEntries(
      [...(body ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    samples.set(key(name, labels as Record<string, string>), Number(value));
  }
  return samples;
}

async function scrape(mesh: Mesh): Promise<Samples> {
  const url = mesh.metricsUrl;
  assert.ok(url, 'the mesh serves its metrics');
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await response.text());
}

function value(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.get(key(name, labels));
}

describe('the metrics endpoint', () => {
  test('counts tasks, repairs, first tries, registry hits, calls, failovers, tokens, cost, latencies and steps', async () => {
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage() });
    mesh.add(adder);
    const other = new Mesh({ config: config(), storage: createMemoryStorage() });
    other.add(adder);
    await mesh.start();
    await other.start();
    try {
      const agent = mesh.getAgent('adder');
      assert.ok(agent);
      const ok = (code: string, inputTokens: number, outputTokens: number) =>
        ({ kind: 'text', text: reply(code), inputTokens, outputTokens }) as const;
      // First try.
      suite.server.script('claude', ok('result = 1;', 1000, 200));
      assert.equal((await agent.executeTask({ task: 'Task one' })).repairs, 0);
      // One repair.
      suite.server.script('claude', ok('result = nope;', 1000, 100), ok('result = 2;', 1000, 100));
      assert.equal((await agent.executeTask({ task: 'Task two' })).repairs, 1);
      // Claude fails (500, no retry): the chain fails over to vllm, which answers.
      suite.server.script('claude', { kind: 'error', status: 500 });
      suite.server.script('vllm', ok('result = 3;', 50, 10));
      assert.equal((await agent.executeTask({ task: 'Task three' })).provider, 'vllm');
      // The registry answers task one again, with no model call.
      assert.equal((await agent.executeTask({ task: 'Task one' })).cached, true);
      // Fails twice (one repair allowed): a failure of category runtime.
      suite.server.script('claude', ok('throw new Error("a");', 1000, 100), ok('throw new Error("b");', 1000, 100));
      assert.equal((await agent.executeTask({ task: 'Task five' })).errorCategory, 'runtime');
      // Refused by its budget before any call: a failure, but not a task that asked a model.
      assert.equal((await agent.executeTask({ task: 'Task budget', budgetUsd: 0 })).errorCategory, 'budget');
      // A workflow step, first try.
      suite.server.script('claude', ok('result = 6;', 1000, 100));
      const workflow = await mesh.workflow('metrics', [{ id: 'six', agent: 'adder', task: 'Task six' }]);
      assert.equal(workflow.summary.succeeded, 1);

      const s = await scrape(mesh);
      const adderOnly = { agent: 'adder' };
      assert.equal(value(s, 'automesh_tasks_total', { agent: 'adder', status: 'success', error_category: 'none' }), 5);
      assert.equal(
        value(s, 'automesh_tasks_total', { agent: 'adder', status: 'failure', error_category: 'runtime' }),
        1,
      );
      assert.equal(
        value(s, 'automesh_tasks_total', { agent: 'adder', status: 'failure', error_category: 'budget' }),
        1,
      );
      assert.equal(value(s, 'automesh_task_repairs_total', adderOnly), 2);
      assert.equal(value(s, 'automesh_tasks_generated_total', adderOnly), 5);
      assert.equal(value(s, 'automesh_tasks_first_try_success_total', adderOnly), 3);
      assert.equal(value(s, 'automesh_first_try_success_ratio', adderOnly), 0.6);
      assert.equal(value(s, 'automesh_registry_hits_total', adderOnly), 1);
      const claude = { provider: 'claude', model: CLAUDE_MODEL };
      assert.equal(value(s, 'automesh_llm_calls_total', { ...claude, status: 'ok' }), 6);
      assert.equal(value(s, 'automesh_llm_calls_total', { provider: 'vllm', model: 'qwen2.5-coder', status: 'ok' }), 1);
      assert.equal(value(s, 'automesh_llm_retries_failovers_total', { provider: 'claude', kind: 'failover' }), 1);
      assert.equal(value(s, 'automesh_llm_tokens_total', { ...claude, agent: 'adder', type: 'input' }), 6000);
      assert.equal(value(s, 'automesh_llm_tokens_total', { ...claude, agent: 'adder', type: 'output' }), 700);
      // claude-sonnet-4-6: 3 USD per million input tokens, 15 per million output.
      const cost = value(s, 'automesh_llm_cost_usd_total', { ...claude, agent: 'adder' }) ?? Number.NaN;
      assert.ok(Math.abs(cost - (6000 * 3 + 700 * 15) / 1e6) < 1e-9, `cost ${cost}`);
      assert.equal(value(s, 'automesh_task_duration_seconds_count', { agent: 'adder', status: 'success' }), 5);
      assert.equal(value(s, 'automesh_llm_call_duration_seconds_count', claude), 6);
      assert.equal(value(s, 'automesh_execution_duration_seconds_count', { outcome: 'success' }), 5);
      assert.equal(value(s, 'automesh_execution_duration_seconds_count', { outcome: 'runtime' }), 3);
      assert.equal(value(s, 'automesh_workflow_steps_total', { agent: 'adder', status: 'success' }), 1);
      assert.equal(value(s, 'automesh_workflows_total', { status: 'finished' }), 1);
      for (const sample of s.keys()) assert.doesNotMatch(sample, /Task (one|two)/, 'no task text in a label');

      // The other mesh of this process has its own registry: none of the above is counted there.
      suite.server.script('claude', ok('result = 7;', 10, 10));
      assert.equal((await other.getAgent('adder')?.executeTask({ task: 'Task seven' }))?.status, 'success');
      const o = await scrape(other);
      assert.equal(value(o, 'automesh_tasks_total', { agent: 'adder', status: 'success', error_category: 'none' }), 1);
      assert.equal(value(o, 'automesh_registry_hits_total', adderOnly), undefined);
      assert.notEqual(other.metricsUrl, mesh.metricsUrl);
    } finally {
      await other.stop();
      await mesh.stop();
    }
    assert.equal(mesh.metricsUrl, null, 'stop() closes the endpoint');
  });

  test('the request handler answers /metrics only, and a server of your own can mount it', async () => {
    const mesh = new Mesh({ config: config(), storage: createMemoryStorage() });
    const server = createServer(metricsRequestHandler(mesh.metrics));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /^# HELP automesh_tasks_total /m);
      const missing = await fetch(`${base}/other`);
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /the metrics are at \/metrics/);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      server.close();
    }
  });

  test('METRICS_PORT is checked, and a port in use says which setting to change', async () => {
    assert.throws(
      () => loadSettings({ envFile: false, env: { METRICS_PORT: 'ninety' } }),
      /METRICS_PORT must be a number/,
    );
    assert.throws(
      () => loadSettings({ envFile: false, env: { METRICS_PORT: '70000' } }),
      /METRICS_PORT must be between 0 and 65535/,
    );
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as AddressInfo).port;
    const mesh = new Mesh({ config: config({ METRICS_PORT: port }), storage: createMemoryStorage() });
    mesh.add(adder);
    try {
      await assert.rejects(
        mesh.start(),
        new RegExp(
          `METRICS_PORT=${port}.*could not listen: port ${port} is already in use.*set METRICS_PORT to a free port`,
        ),
      );
      assert.equal(mesh.started, false);
    } finally {
      blocker.close();
    }
  });
});
