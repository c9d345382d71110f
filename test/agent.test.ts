// AutoAgent end to end: the real SDKs over HTTP against the local wire-protocol server, the real sandbox,
// the file registry and result log. Each JarvisCore regression named in the issue is a test here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import { z } from 'zod';
import { AutoAgent, defineAgent, defineTool, Mesh, resetCooldowns } from '../src/index.js';
import { databasePath, openSqliteStorage, type StoredResult } from '../src/storage/index.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer } from './llm-server/server.js';

/** A result as the mesh stored it in the database under logDir. */
async function storedResult(resultId: string): Promise<StoredResult | null> {
  const storage = openSqliteStorage(databasePath(logDir));
  try {
    return await storage.results.get(resultId, 'calculator');
  } finally {
    await storage.close();
  }
}

const KEY = 'sk-ant-agent-test-key-0123456789abcdef';
let server: LlmServer;
let mesh: Mesh;
let logDir: string;

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math', 'calculations'];
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

const sales = [
  { region: 'eu', revenue: 120 },
  { region: 'us', revenue: 80 },
  { region: 'eu', revenue: 30 },
];
const query = defineTool({
  name: 'database.query',
  description: 'Returns the sales rows of one region as objects { region, revenue }',
  input: z.tuple([z.string().describe('region: two-letter region code')]),
  run: async (region) => sales.filter((row) => row.region === region),
});

function meshConfig(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'claude',
    CLAUDE_API_KEY: KEY,
    CLAUDE_ENDPOINT: server.anthropicBaseUrl,
    CLAUDE_MODEL: 'claude-sonnet-4-6',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 5,
    EXECUTION_TIMEOUT: 1.5,
    SANDBOX_MEMORY_MB: 64,
    SANDBOX_WORKERS: 2,
    LOG_DIRECTORY: logDir,
    ...extra,
  };
}

/** A reply the way a model writes one: prose, a fenced block, a closing remark. */
function reply(code: string, lang = 'javascript'): string {
  return `Sure! Here's how to do it:\n\n\`\`\`${lang}\n${code}\n\`\`\`\n\nThe code stores the answer in \`result\`.`;
}

before(async () => {
  server = await LlmServer.start();
  logDir = tempDir('agent');
  mesh = new Mesh({ mode: 'autonomous', config: meshConfig() });
  mesh.add(CalculatorAgent);
  mesh.add(defineAgent({ role: 'analyst', capabilities: ['data'], systemPrompt: 'You analyse sales data.' }), {
    tools: [query],
  });
  await mesh.start();
});

after(async () => {
  await mesh.stop();
  await server.close();
});

beforeEach(() => {
  server.reset();
  resetCooldowns();
});

const calculator = () => mesh.getAgent('calculator') as AutoAgent;

describe('generate, execute, register', () => {
  test('first-try success fills every envelope field and writes the result log', async () => {
    server.script('claude', {
      kind: 'text',
      inputTokens: 410,
      outputTokens: 62,
      text: reply('let f: number = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;', 'typescript'),
    });
    const r = await calculator().executeTask({ task: 'Calculate the factorial of 10' });
    assert.equal(r.status, 'success', r.error ?? '');
    assert.equal(r.output, 3628800);
    assert.equal(r.code, 'let f: number = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;');
    assert.equal(r.repairs, 0);
    assert.deepEqual(r.tokens, { input: 410, output: 62, total: 472 });
    assert.equal(r.costUsd, (410 * 3 + 62 * 15) / 1e6);
    assert.equal(r.cached, false);
    assert.equal(r.error, null);
    assert.equal(r.errorCategory, null);
    assert.equal(r.role, 'calculator');
    assert.match(r.agentId, /^calculator-[0-9a-f]{8}$/);
    assert.equal(r.provider, 'claude');
    assert.equal(r.model, 'claude-sonnet-4-6');
    assert.ok(r.executionTime > 0 && r.executionTime < 10);
    assert.match(r.functionId ?? '', /^fn_[0-9a-f]{16}$/);
    assert.equal(r.attempts.length, 1);
    assert.deepEqual(r.attempts[0]?.tokens, { input: 410, output: 62, total: 472 });

    const stored = await storedResult(r.resultId);
    assert.ok(stored, 'result log written');
    assert.equal(stored.task, 'Calculate the factorial of 10');
    assert.equal(stored.envelope.output, 3628800);
    assert.match(stored.promptHashes.agentSystemPrompt ?? '', /^[0-9a-f]{64}$/);
    for (const file of [databasePath(logDir), `${databasePath(logDir)}-wal`]) {
      if (existsSync(file)) assert.ok(!readFileSync(file).includes(KEY), `no secret in ${file}`);
    }

    const [request] = server.requests('claude');
    assert.match(request?.system ?? '', /You are a math expert/);
    assert.match(request?.system ?? '', /body of an async function/);
    assert.match(request?.messages[0]?.content ?? '', /Task: Calculate the factorial of 10/);
  });

  test('the prompt describes the tools and the shape of the context', async () => {
    server.script('claude', {
      kind: 'text',
      text: reply(
        'const rows = await database.query(context.region);\nresult = rows.reduce((s, r) => s + r.revenue, 0);',
      ),
    });
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, amount: i * 2 }));
    const r = await (mesh.getAgent('analyst') as AutoAgent).executeTask({
      task: 'Total revenue of the region',
      context: { region: 'eu', history: rows },
    });
    assert.equal(r.output, 150);
    const system = server.requests('claude')[0]?.system ?? '';
    assert.match(system, /await database\.query\(region: string\): Promise<unknown>/);
    assert.match(system, /Returns the sales rows of one region/);
    assert.match(system, /region: string "eu"/);
    assert.match(system, /history: array of 5000 \(first item: \{/);
    assert.ok(system.length < 6000, 'a large context is summarized, not dumped');
  });

  test('code with no result is a failure, never a silent success (JarvisCore returned None)', async () => {
    const noResult = reply('const total = 2 + 2;\nconsole.log(total);');
    server.respond('claude', () => ({ kind: 'text', text: noResult }));
    const r = await calculator().executeTask({ task: 'Add two and two, print it' });
    assert.equal(r.status, 'failure');
    assert.equal(r.errorCategory, 'no_result');
    assert.equal(r.output, null);
  });
});

describe('repair', () => {
  test('after a runtime error: the envelope returns the repaired code, repairs 1, and registers it', async () => {
    const broken =
      'const values: number[] = context.values;\nresult = values.reduce((a, b) => a + b, 0) / values.length;';
    const fixed =
      'const values: number[] = context.values ?? [2, 4, 6];\nresult = values.reduce((a, b) => a + b, 0) / values.length;';
    server.script(
      'claude',
      { kind: 'text', text: reply(broken, 'ts'), inputTokens: 300, outputTokens: 40 },
      {
        kind: 'text',
        text: `You're right, \`context.values\` is missing. Here is the fix:\n\n\`\`\`ts\n${fixed}\n\`\`\``,
        inputTokens: 520,
        outputTokens: 55,
      },
    );
    const r = await calculator().executeTask({ task: 'Average of 2, 4 and 6' });
    assert.equal(r.status, 'success', r.error ?? '');
    assert.equal(r.output, 4);
    assert.equal(r.code, fixed, 'the code that worked, not the first one');
    assert.equal(r.repairs, 1);
    assert.equal(r.attempts.length, 2);
    assert.equal(r.attempts[0]?.errorCategory, 'runtime');
    assert.match(r.attempts[0]?.error ?? '', /Cannot read properties of undefined \(reading 'reduce'\).*line 2/);
    assert.equal(r.attempts[1]?.error, null);
    // Tokens and cost are the sums of what the server reported.
    assert.deepEqual(r.tokens, { input: 820, output: 95, total: 915 });
    assert.equal(r.costUsd, (820 * 3 + 95 * 15) / 1e6);
    const entry = await mesh.registry.get(r.functionId as string);
    assert.equal(entry?.code, fixed, 'the registry holds the repaired code');
    // The repair prompt carried the failed code, the error with category and line, and the task.
    const repair = server.requests('claude')[1]?.messages[0]?.content ?? '';
    assert.match(repair, /Task: Average of 2, 4 and 6/);
    assert.ok(repair.includes(broken));
    assert.match(repair, /\(runtime, line 2\)/);
    assert.match(repair, /reading 'reduce'/);
  });

  test('after a syntax error (JarvisCore never repaired these)', async () => {
    server.script(
      'claude',
      { kind: 'text', text: reply('const xs = [1, 2, 3\nresult = xs.length;') },
      { kind: 'text', text: reply('const xs = [1, 2, 3];\nresult = xs.length;') },
    );
    const r = await calculator().executeTask({ task: 'Count the items 1, 2, 3' });
    assert.equal(r.output, 3);
    assert.equal(r.repairs, 1);
    assert.equal(r.attempts[0]?.errorCategory, 'syntax');
    assert.match(server.requests('claude')[1]?.messages[0]?.content ?? '', /\(syntax, line 2\)/);
  });

  test('after Python written by mistake', async () => {
    server.script(
      'claude',
      {
        kind: 'text',
        text: 'Here you go:\n\n```python\ndef fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nresult = fib(10)\n```',
      },
      {
        kind: 'text',
        text: reply('function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nresult = fib(10);'),
      },
    );
    const r = await calculator().executeTask({ task: 'The 10th Fibonacci number' });
    assert.equal(r.output, 55);
    assert.equal(r.attempts[0]?.errorCategory, 'syntax');
    assert.match(server.requests('claude')[1]?.messages[0]?.content ?? '', /Python/);
  });

  test('after a timeout', async () => {
    server.script(
      'claude',
      { kind: 'text', text: reply('let n = 0;\nwhile (true) { n++; }\nresult = n;') },
      { kind: 'text', text: reply('result = 1000000;') },
    );
    const r = await calculator().executeTask({ task: 'Count to a million' });
    assert.equal(r.output, 1000000);
    assert.equal(r.attempts[0]?.errorCategory, 'timeout');
  });

  test('after no result', async () => {
    server.script(
      'claude',
      { kind: 'text', text: reply('const answer = 6 * 7;') },
      { kind: 'text', text: reply('const answer = 6 * 7;\nresult = answer;') },
    );
    const r = await calculator().executeTask({ task: 'Six times seven' });
    assert.equal(r.output, 42);
    assert.equal(r.attempts[0]?.errorCategory, 'no_result');
  });

  test('repairs exhausted: failure, exactly 4 model calls, all four attempts logged', async () => {
    server.respond('claude', (req) => ({
      kind: 'text',
      text: reply(`// try ${req.messages[0]?.content.length}\nresult = undefinedVariable * 2;`),
      inputTokens: 100,
      outputTokens: 10,
    }));
    const r = await calculator().executeTask({ task: 'Double the undefined variable' });
    assert.equal(r.status, 'failure');
    assert.equal(r.errorCategory, 'runtime');
    assert.match(r.error ?? '', /undefinedVariable is not defined/);
    assert.equal(server.requests('claude').length, 4);
    assert.equal(r.repairs, 3);
    assert.equal(r.attempts.length, 4);
    for (const attempt of r.attempts) {
      assert.equal(attempt.errorCategory, 'runtime');
      assert.equal(attempt.provider, 'claude');
    }
    assert.deepEqual(r.tokens, { input: 400, output: 40, total: 440 });
    assert.equal(r.code, r.attempts[3]?.code, "the last attempt's code");
    assert.equal(r.functionId, null);
    assert.match(server.requests('claude')[3]?.messages[0]?.content ?? '', /Earlier attempts that also failed/);
    assert.equal((await storedResult(r.resultId))?.envelope.status, 'failure', 'failures are logged too');
  });
});

describe('LLM outage', () => {
  test('chain down: errorCategory llm, result logged', async () => {
    server.respond('claude', () => ({ kind: 'error', status: 500, message: 'upstream connect error' }));
    const r = await calculator().executeTask({ task: 'Anything at all during an outage' });
    assert.equal(r.status, 'failure');
    assert.equal(r.errorCategory, 'llm');
    assert.match(
      r.error ?? '',
      /All LLM providers failed\. claude \(claude-sonnet-4-6\): server 500: upstream connect error/,
    );
    assert.equal(r.tokens.total, 0);
    assert.ok(!r.error?.includes(KEY));
    assert.ok(await storedResult(r.resultId));
  });
});

describe('registry reuse', () => {
  test('the second identical task makes zero HTTP calls and returns the same output', async () => {
    server.script('claude', {
      kind: 'text',
      text: reply('result = Array.from({ length: 10 }, (_, i) => i * i);'),
      inputTokens: 200,
      outputTokens: 30,
    });
    const first = await calculator().executeTask({ task: 'Squares of 0 to 9' });
    assert.equal(first.cached, false);
    const before = server.requests().length;
    const second = await calculator().executeTask({ task: '  squares of 0 to 9.  ' });
    assert.equal(server.requests().length, before, 'no HTTP call');
    assert.equal(second.cached, true);
    assert.deepEqual(second.output, first.output);
    assert.equal(second.functionId, first.functionId);
    assert.deepEqual(second.tokens, { input: 0, output: 0, total: 0 });
    assert.equal(second.costUsd, 0);
    assert.equal(second.repairs, 0);
    assert.equal(second.provider, null);
    const entry = await mesh.registry.get(second.functionId as string);
    assert.equal(entry?.successCount, 2);
  });

  test('a stored function that fails counts the failure and falls back to generation', async () => {
    server.script('claude', { kind: 'text', text: reply('result = context.items[context.index].toFixed(1);') });
    const first = await calculator().executeTask({
      task: 'The chosen item, one decimal',
      context: { items: [1, 2, 3], index: 1 },
    });
    assert.equal(first.output, '2.0');
    // Same context shape, other values: the stored code is tried, and fails.
    server.script('claude', { kind: 'text', text: reply('result = (context.items[context.index] ?? 0).toFixed(1);') });
    const second = await calculator().executeTask({
      task: 'The chosen item, one decimal',
      context: { items: [1, 2, 3], index: 7 },
    });
    assert.equal(second.status, 'success', second.error ?? '');
    assert.equal(second.output, '0.0');
    assert.equal(second.cached, false);
    assert.equal(second.attempts[0]?.provider, null, 'first attempt was the stored code');
    assert.equal(second.attempts[0]?.errorCategory, 'runtime');
    assert.equal(server.requests('claude').length, 2);
    const stale = await mesh.registry.get(first.functionId as string);
    assert.equal(stale?.failureCount, 1);
    assert.equal(stale?.stage, 'candidate');
  });

  test('REGISTRY_REUSE=false turns reuse off', async () => {
    const dir = tempDir('noreuse');
    const other = new Mesh({ config: meshConfig({ REGISTRY_REUSE: false, LOG_DIRECTORY: dir }) });
    other.add(CalculatorAgent);
    await other.start();
    try {
      server.respond('claude', () => ({ kind: 'text', text: reply('result = 7 * 6;') }));
      const agent = other.getAgent('calculator') as AutoAgent;
      await agent.executeTask({ task: 'Seven times six' });
      const again = await agent.executeTask({ task: 'Seven times six' });
      assert.equal(again.cached, false);
      assert.equal(server.requests('claude').length, 2);
    } finally {
      await other.stop();
    }
  });

  test('registry lookups and searches are an API', async () => {
    server.script('claude', { kind: 'text', text: reply('result = 2 ** 10;') });
    const r = await calculator().executeTask({ task: 'Calculate 2 to the power of 10' });
    const found = await mesh.registry.search('power of 10');
    assert.equal(found[0]?.entry.id, r.functionId);
    const byCap = await mesh.registry.byCapability('math');
    assert.ok(byCap.some((e) => e.id === r.functionId));
    const entry = await mesh.registry.get(r.functionId as string);
    assert.equal(entry?.provenance.provider, 'claude');
    assert.equal(entry?.provenance.model, 'claude-sonnet-4-6');
    assert.equal(entry?.stage, 'verified');
  });
});

describe('agent definitions and programmer errors', () => {
  test('bad definitions fail when the agent is added', () => {
    const m = new Mesh();
    class NoPrompt extends AutoAgent {
      static override role = 'writer';
      static override capabilities = ['text'];
    }
    assert.throws(() => m.add(NoPrompt), /Invalid agent class NoPrompt \(role "writer"\): systemPrompt is required/);
    assert.throws(() => m.add(defineAgent as never), /takes a class extending AutoAgent/);
    assert.throws(
      () => defineAgent({ role: 'Bad Role', capabilities: [], systemPrompt: 'x' }),
      /role must be lower-case letters/,
    );
    assert.throws(
      () => defineAgent({ role: 'writer', capabilities: [], systemPrompt: '   ' }),
      /systemPrompt must not be empty/,
    );
    m.add(CalculatorAgent);
    assert.throws(() => m.add(CalculatorAgent), /role "calculator" is already in this mesh/);
  });

  test('executeTask before start, and an empty task, are programmer errors', async () => {
    const m = new Mesh({ config: meshConfig() });
    m.add(CalculatorAgent);
    await assert.rejects((m.getAgent('calculator') as AutoAgent).executeTask({ task: 'x' }), /before executeTask\(\)/);
    await assert.rejects(calculator().executeTask({ task: '  ' }), /non-empty task/);
    await assert.rejects(
      calculator().executeTask({ task: 'x', id: '../etc/passwd' }),
      /Task id "..\/etc\/passwd" is invalid/,
    );
  });

  test('mesh lifecycle errors', async () => {
    await assert.rejects(new Mesh({ config: meshConfig() }).start(), /has no agents/);
    assert.throws(
      () => mesh.add(defineAgent({ role: 'late', capabilities: [], systemPrompt: 'x' })),
      /after mesh\.start\(\)/,
    );
    await assert.rejects(mesh.start(), /already started/);
  });
});
