// What users trust the AutoAgent pipeline with (issue 11): registered code is reused only for the situation it was
// written for; output schemas; the model's raw reply kept; faults (damaged registry records, cancellation, a result
// log that cannot be written) stay with the task they happen to; schemas automesh cannot read are refused.
// Real SDKs over HTTP against the local wire-protocol server, the real sandbox and file storage.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { MAX_REPLY_BYTES } from '../src/agent/reply.js';
import {
  AutoAgent,
  CodeRegistry,
  defineAgent,
  defineTool,
  Mesh,
  type MeshEvents,
  resetCooldowns,
  WorkflowValidationError,
} from '../src/index.js';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'sk-ant-contract-test-key-0123456789abcdef';
/** Runs `sql` on the database under `logDir` directly, as a hand edit or a disk fault would. */
function tamper(logDir: string, sql: string, ...params: unknown[]): void {
  const db = new Database(databasePath(logDir));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

let server: LlmServer;
let mesh: Mesh;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'automesh-contract-'));
  dirs.push(dir);
  return dir;
}

class CalculatorAgent extends AutoAgent {
  static override role = 'calculator';
  static override capabilities = ['math'];
  static override systemPrompt = 'You are a math expert. Store the answer in `result`.';
}

class TotalsAgent extends AutoAgent {
  static override role = 'totals';
  static override capabilities = ['totals'];
  static override systemPrompt = 'You total up numbers.';
  static override outputSchema = z.object({ total: z.number().nonnegative(), count: z.number().int() });
}

function config(logDir: string, extra: Record<string, string | number | boolean> = {}) {
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
function reply(code: string, lang = 'typescript'): string {
  return `Sure! Here's how to do it:\n\n\`\`\`${lang}\n${code}\n\`\`\`\n\nThe code stores the answer in \`result\`.`;
}

function isRepair(req: ReceivedRequest): boolean {
  return req.messages[0]?.content.includes('Your code failed') ?? false;
}

let logDir: string;
before(async () => {
  server = await LlmServer.start();
  logDir = tempDir();
  mesh = new Mesh({ config: config(logDir) });
  mesh.add(CalculatorAgent).add(TotalsAgent);
  mesh.add(
    defineAgent({
      role: 'reporter',
      capabilities: ['reports'],
      systemPrompt: 'You write report data.',
      outputSchema: z.object({ title: z.string() }),
    }),
  );
  await mesh.start();
});

after(async () => {
  await mesh.stop();
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset();
  resetCooldowns();
});

const agent = (role: string) => mesh.getAgent(role) as AutoAgent;

describe('registered code is reused only for the situation it was written for', () => {
  test('same task, other context keys: new code; same shape, other values: reused with no model call', async () => {
    server.script(
      'claude',
      {
        kind: 'text',
        text: reply('const nums: number[] = context.nums ?? [];\nresult = nums.reduce((a, b) => a + b, 0);'),
        inputTokens: 300,
        outputTokens: 30,
      },
      {
        kind: 'text',
        text: reply('const values: number[] = context.values ?? [];\nresult = values.reduce((a, b) => a + b, 0);'),
        inputTokens: 300,
        outputTokens: 30,
      },
    );
    const first = await agent('calculator').executeTask({
      task: 'Add up the numbers in the context',
      context: { nums: [1, 2, 3] },
    });
    assert.equal(first.output, 6);
    // JarvisCore-style keys (role, task, prompt) reused the code above here and answered 0, cached, success.
    const second = await agent('calculator').executeTask({
      task: 'Add up the numbers in the context',
      context: { values: [10, 20, 30] },
    });
    assert.equal(second.status, 'success', second.error ?? '');
    assert.equal(second.output, 60);
    assert.equal(second.cached, false);
    assert.equal(server.requests('claude').length, 2);
    const third = await agent('calculator').executeTask({
      task: 'Add up the numbers in the context',
      context: { nums: [4, 5] },
    });
    assert.equal(third.output, 9);
    assert.equal(third.cached, true);
    assert.equal(third.functionId, first.functionId);
    assert.deepEqual(third.tokens, { input: 0, output: 0, total: 0 });
    assert.equal(server.requests('claude').length, 2, 'no model call');
    const entry = await mesh.registry.get(first.functionId as string);
    assert.match(entry?.contextShapeHash ?? '', /^[0-9a-f]{64}$/);
    assert.match(entry?.toolsHash ?? '', /^[0-9a-f]{64}$/);
    assert.match(entry?.outputSchemaHash ?? '', /^[0-9a-f]{64}$/);
  });

  test('a workflow run again reuses every step: dependency envelopes count by their output, not run-to-run fields', async () => {
    server.respond('claude', (req) => ({
      kind: 'text',
      text: /List the first three primes/.test(req.messages[0]?.content ?? '')
        ? reply('result = [2, 3, 5];')
        : reply('const primes: number[] = context.primes.output;\nresult = primes.reduce((a, b) => a + b, 0);'),
    }));
    const steps = [
      { id: 'primes', agent: 'calculator', task: 'List the first three primes' },
      { id: 'sum', agent: 'calculator', task: 'Sum the primes of the primes step', dependsOn: ['primes'] },
    ];
    const first = await mesh.workflow('primes-once', steps);
    assert.deepEqual(
      first.map((r) => r.output),
      [[2, 3, 5], 10],
    );
    assert.equal(server.requests('claude').length, 2);
    // The second run gets the first step from the registry: provider, model, cost and attempts of its envelope
    // differ from the first run's, its output's shape does not.
    const again = await mesh.workflow('primes-twice', steps);
    assert.deepEqual(
      again.map((r) => r.output),
      [[2, 3, 5], 10],
    );
    assert.deepEqual(
      again.map((r) => r.cached),
      [true, true],
    );
    assert.equal(server.requests('claude').length, 2, 'no model call in the second run');
  });
});

describe('output schemas', () => {
  test('the model is told the shape; a result that does not match is a schema failure and is repaired', async () => {
    server.respond('claude', (req) => ({
      kind: 'text',
      text: isRepair(req)
        ? reply(
            'const xs: number[] = context.xs;\nresult = { total: xs.reduce((a, b) => a + b, 0), count: xs.length };',
          )
        : reply('result = context.xs.reduce((a, b) => a + b, 0);'),
    }));
    const r = await agent('totals').executeTask({ task: 'Total of xs', context: { xs: [1, 2, 3.5] } });
    assert.equal(r.status, 'success', r.error ?? '');
    assert.deepEqual(r.output, { total: 6.5, count: 3 });
    assert.equal(r.repairs, 1);
    assert.equal(r.attempts[0]?.errorCategory, 'schema');
    assert.match(r.attempts[0]?.error ?? '', /does not match the output schema/);
    assert.match(r.attempts[0]?.error ?? '', /- result: Invalid input: expected object, received number/);
    const [ask, repair] = server.requests('claude');
    assert.match(ask?.system ?? '', /`result` must match this type: \{ total: number; count: number \}/);
    assert.match(ask?.system ?? '', /"minimum": 0/);
    assert.match(repair?.messages[0]?.content ?? '', /\(schema\)/);
    assert.match(repair?.messages[0]?.content ?? '', /expected object, received number/);
  });

  test('every issue is listed with its path; repairs exhausted ends with category schema', async () => {
    server.respond('claude', () => ({ kind: 'text', text: reply('result = { total: "six", count: 2.5 };') }));
    const r = await agent('totals').executeTask({ task: 'Total of ys', context: { ys: [1, 2, 3] } });
    assert.equal(r.status, 'failure');
    assert.equal(r.errorCategory, 'schema');
    assert.equal(r.output, null);
    assert.match(r.error ?? '', /\(2 issues\)/);
    assert.match(r.error ?? '', /- result\.total: Invalid input: expected number, received string/);
    assert.match(r.error ?? '', /- result\.count: Invalid input: expected int, received number/);
    assert.equal(r.functionId, null, 'nothing registered');
  });

  test("a task schema overrides the agent's; defineAgent and workflow steps take one too", async () => {
    server.respond('claude', (req) => {
      const content = req.messages[0]?.content ?? '';
      if (/Name the report/.test(content))
        return { kind: 'text', text: reply(isRepair(req) ? 'result = { title: "Q3" };' : 'result = "Q3";') };
      return { kind: 'text', text: reply('result = [1, 2];') };
    });
    const own = await agent('totals').executeTask({
      task: 'Two small numbers',
      outputSchema: z.array(z.number()).length(2),
    });
    assert.equal(own.status, 'success', own.error ?? '');
    assert.deepEqual(own.output, [1, 2]);
    assert.match(server.requests('claude')[0]?.system ?? '', /must match this type: number\[\]/);
    const named = await agent('reporter').executeTask({ task: 'Name the report' });
    assert.deepEqual(named.output, { title: 'Q3' });
    assert.equal(named.attempts[0]?.errorCategory, 'schema');
    server.reset();
    server.respond('claude', (req) => ({
      kind: 'text',
      text: reply(isRepair(req) ? 'result = { pair: [1, 2] };' : 'result = [1, 2];'),
    }));
    const [step] = await mesh.workflow('schema-step', [
      {
        agent: 'calculator',
        task: 'Two small numbers as a pair',
        outputSchema: z.object({ pair: z.array(z.number()) }),
      },
    ]);
    assert.deepEqual(step?.output, { pair: [1, 2] });
    assert.equal(step?.attempts[0]?.errorCategory, 'schema');
  });

  test('a registry hit whose output does not match counts as a failure and falls back to generation', async () => {
    server.script(
      'claude',
      { kind: 'text', text: reply('result = { total: context.a - context.b, count: 2 };') },
      { kind: 'text', text: reply('result = { total: Math.abs(context.a - context.b), count: 2 };') },
    );
    const first = await agent('totals').executeTask({ task: 'Difference of a and b', context: { a: 5, b: 3 } });
    assert.deepEqual(first.output, { total: 2, count: 2 });
    const second = await agent('totals').executeTask({ task: 'Difference of a and b', context: { a: 1, b: 4 } });
    assert.equal(second.status, 'success', second.error ?? '');
    assert.deepEqual(second.output, { total: 3, count: 2 });
    assert.equal(second.cached, false);
    assert.equal(second.attempts[0]?.provider, null, 'the registered code ran first');
    assert.equal(second.attempts[0]?.errorCategory, 'schema');
    assert.match(second.attempts[0]?.error ?? '', /result\.total: Too small: expected number to be >=0/);
    const stale = await mesh.registry.get(first.functionId as string);
    assert.equal(stale?.failureCount, 1);
    assert.equal(stale?.stage, 'candidate');
  });
});

describe("the model's raw reply is kept", () => {
  test('prose with no code: every attempt holds the reply, in the envelope and in the result log', async () => {
    const prose = (n: number) => `I'm sorry, but I can't run code. The sum of 1 to 100 is 5050 (try ${n}).`;
    let n = 0;
    server.respond('claude', () => ({ kind: 'text', text: prose(++n) }));
    const r = await agent('calculator').executeTask({ task: 'Sum of the numbers from 1 to 100' });
    assert.equal(r.status, 'failure');
    assert.equal(r.attempts.length, 4);
    r.attempts.forEach((attempt, i) => {
      assert.equal(attempt.reply, prose(i + 1));
      assert.equal(attempt.replyTruncated, false);
      assert.match(attempt.error ?? '', /no code/i);
    });
    const storage = openSqliteStorage(databasePath(logDir));
    const stored = await storage.results.get(r.resultId, 'calculator');
    await storage.close();
    const storedAttempts = stored?.envelope.attempts as Array<{ reply: string | null }>;
    assert.deepEqual(
      storedAttempts.map((a) => a.reply),
      [1, 2, 3, 4].map(prose),
    );
  });

  test('a long reply is cut to 16 KiB and flagged; registry attempts have none', async () => {
    const long = reply(`// ${'é'.repeat(12_000)}\nresult = 1 + 1;`);
    server.script('claude', { kind: 'text', text: long });
    const r = await agent('calculator').executeTask({ task: 'One plus one, with a long comment' });
    assert.equal(r.output, 2);
    assert.equal(r.attempts[0]?.replyTruncated, true);
    assert.ok(Buffer.byteLength(r.attempts[0]?.reply ?? '', 'utf8') <= MAX_REPLY_BYTES);
    assert.ok(long.startsWith(r.attempts[0]?.reply ?? 'x'), 'a prefix of the reply, not cut inside a character');
    const hit = await agent('calculator').executeTask({ task: 'One plus one, with a long comment' });
    assert.equal(hit.cached, true);
    assert.equal(hit.attempts[0]?.reply, null);
    assert.equal(hit.attempts[0]?.replyTruncated, false);
  });
});

describe('faults stay where they happen', () => {
  test('cancelled while the model thinks, or while the code runs: category cancelled, not timeout', async () => {
    server.respond('claude', () => ({ kind: 'hang' }));
    const thinking = new AbortController();
    setTimeout(() => thinking.abort(), 200);
    const a = await agent('calculator').executeTask({ task: 'Think forever', signal: thinking.signal });
    assert.equal(a.status, 'failure');
    assert.equal(a.errorCategory, 'cancelled');
    assert.equal(a.attempts.at(-1)?.errorCategory, 'cancelled');
    assert.match(a.error ?? '', /cancelled by the caller/);

    server.reset();
    server.respond('claude', () => ({ kind: 'text', text: reply('let n = 0;\nwhile (true) n++;\nresult = n;') }));
    const running = new AbortController();
    setTimeout(() => running.abort(), 400);
    const b = await agent('calculator').executeTask({ task: 'Count for ever', signal: running.signal });
    assert.equal(b.errorCategory, 'cancelled');
    assert.equal(b.attempts.at(-1)?.errorCategory, 'cancelled');
    assert.equal(server.requests('claude').length, 1, 'a cancelled task is not repaired');
  });

  test('a damaged registry entry: the task generates code, a warning names the record, list flags it', async () => {
    server.script('claude', { kind: 'text', text: reply('result = 6 * 7;') });
    const first = await agent('calculator').executeTask({ task: 'Six times seven, please' });
    await mesh.registry.settled();
    const entryFile = databasePath(logDir);
    tamper(logDir, 'UPDATE registry_entries SET body = ? WHERE id = ?', '{"id": "fn_', first.functionId);
    const warnings: Array<MeshEvents['warning']> = [];
    const listen = (w: MeshEvents['warning']): void => {
      warnings.push(w);
    };
    mesh.on('warning', listen);
    try {
      server.script('claude', { kind: 'text', text: reply('result = 7 * 6;') });
      const again = await agent('calculator').executeTask({ task: 'Six times seven, please' });
      assert.equal(again.status, 'success', again.error ?? '');
      assert.equal(again.output, 42);
      assert.equal(again.cached, false);
      // In a workflow the same fault costs the step its reuse, never the workflow its other results.
      server.script(
        'claude',
        { kind: 'text', text: reply('result = 6 * 7 + 0;') },
        { kind: 'text', text: reply('result = 42;') },
      );
      const steps = [{ id: 'product', agent: 'calculator', task: 'Six times seven, please' }];
      const [ran] = await mesh.workflow('damaged-registry', steps, { fresh: true });
      await mesh.registry.settled();
      tamper(logDir, 'UPDATE registry_entries SET body = ? WHERE id = ?', '', ran?.functionId);
      const [step] = await mesh.workflow('damaged-registry', steps, { fresh: true });
      assert.equal(step?.status, 'success', 'the workflow does not reject');
      assert.equal(step?.output, 42);
      assert.equal(warnings[1]?.record?.id, ran?.functionId);
      assert.equal(warnings[1]?.stepId, 'product');
      await mesh.registry.remove(ran?.functionId ?? '');
    } finally {
      mesh.off('warning', listen);
    }
    assert.equal(warnings.length, 2, JSON.stringify(warnings));
    assert.equal(warnings[0]?.kind, 'registry_damaged');
    assert.equal(warnings[0]?.record?.id, first.functionId);
    assert.equal(warnings[0]?.record?.path, entryFile);
    assert.match(
      warnings[0]?.message ?? '',
      new RegExp(`Registry entry ${first.functionId} in .*automesh\\.db is damaged`),
    );
    assert.match(warnings[0]?.message ?? '', /automesh registry rm/);
    const listed = await mesh.registry.list();
    assert.deepEqual(
      listed.damaged.map((d) => d.id),
      [first.functionId],
    );
    assert.ok(listed.length > 0, 'the readable entries are listed');

    const cli = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(root, 'dist', 'src', 'cli', 'main.js'), 'registry', 'list'],
        {
          cwd: logDir,
          env: { PATH: process.env.PATH ?? '', HOME: logDir, LOG_DIRECTORY: logDir },
          timeout: 60_000,
        },
        (err, stdout) => resolve({ code: err ? 1 : 0, stdout }),
      );
    });
    assert.equal(cli.code, 0, cli.stdout);
    assert.match(cli.stdout, new RegExp(`${first.functionId}\\s+\\?\\s+DAMAGED`));
    assert.match(
      cli.stdout,
      /damaged entry fn_[0-9a-f]{16}: Registry entry fn_[0-9a-f]{16} in .*automesh\.db is damaged \(not valid JSON/,
    );
    assert.match(cli.stdout, /calculator\s+verified/, 'the other entries are still listed');
    await mesh.registry.remove(first.functionId ?? '');
  });

  test('a result log that cannot be written: the task fails with storage, its code is not registered', async () => {
    const dir = tempDir();
    const other = new Mesh({ config: config(dir) });
    other.add(CalculatorAgent);
    await other.start();
    try {
      // The database refuses to store results (as a full disk would).
      tamper(
        dir,
        "CREATE TRIGGER refuse_results BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END",
      );
      server.script('claude', { kind: 'text', text: reply('result = 2 ** 8;') });
      const r = await (other.getAgent('calculator') as AutoAgent).executeTask({ task: 'Two to the eighth' });
      assert.equal(r.status, 'failure');
      assert.equal(r.errorCategory, 'storage');
      assert.equal(r.output, null);
      assert.equal(r.functionId, null);
      assert.match(r.error ?? '', /could not be stored in the result log .*its code was not registered/);
      assert.match(r.error ?? '', /LOG_DIRECTORY/);
      assert.equal(r.code, 'result = 2 ** 8;');
    } finally {
      await other.stop();
    }
    const storage = openSqliteStorage(databasePath(dir));
    const listed = await new CodeRegistry(storage.registry).list();
    await storage.close();
    assert.deepEqual([...listed, ...listed.damaged], [], 'code whose result was not stored is never registered');
  });
});

describe('schemas automesh cannot read are refused (zod 3, not a schema)', () => {
  // What a zod 3 schema object looks like (zod 3 cannot be installed beside zod 4 here): `_def`, methods, no `_zod`.
  const zod3Tuple = {
    _def: { typeName: 'ZodTuple', items: [{ _def: { typeName: 'ZodString', checks: [] } }], rest: null },
    parse: (v: unknown) => v,
    safeParse: (v: unknown) => ({ success: true, data: v }),
  };

  test('defineTool refuses a zod 3 input or output schema, saying why and what to do', () => {
    const make = (schemas: Record<string, unknown>) =>
      defineTool({
        name: 'database.query',
        description: 'Run SQL',
        run: async () => [],
        ...schemas,
      } as Parameters<typeof defineTool>[0]);
    assert.throws(
      () => make({ input: zod3Tuple }),
      /Tool "database\.query" input is a zod 3 schema .*cannot read.*npm install zod@\^4.*zod\/v4/s,
    );
    assert.throws(() => make({ output: zod3Tuple }), /Tool "database\.query" output is a zod 3 schema/);
    assert.throws(
      () => make({ input: { type: 'array' } }),
      /input must be a zod 4 schema .*got an object that is not a zod schema/,
    );
    assert.throws(() => make({ input: 'string' }), /must be a zod 4 schema .*got string/);
    assert.doesNotThrow(() => make({ input: z.tuple([z.string()]), output: z.array(z.unknown()) }));
    // A definition built by hand, not through defineTool, is checked when the agent is added.
    const handMade = { name: 'fx.rate', description: 'A rate', input: zod3Tuple, run: () => 1 };
    assert.throws(
      () => new Mesh().add(CalculatorAgent, { tools: [handMade as never] }),
      /Tool "fx\.rate" input is a zod 3 schema/,
    );
  });

  test('an outputSchema that is not zod 4 is refused on an agent, a task and a workflow step', async () => {
    assert.throws(
      () => defineAgent({ role: 'x', capabilities: [], systemPrompt: 'p', outputSchema: zod3Tuple as never }),
      /The outputSchema of agent \(role "x"\) is a zod 3 schema/,
    );
    class Old extends AutoAgent {
      static override role = 'old';
      static override systemPrompt = 'p';
      static override outputSchema = zod3Tuple as never;
    }
    assert.throws(() => new Mesh().add(Old), /outputSchema of agent class Old \(role "old"\) is a zod 3 schema/);
    await assert.rejects(
      agent('calculator').executeTask({ task: 'x', outputSchema: zod3Tuple as never }),
      /The task's outputSchema is a zod 3 schema/,
    );
    await assert.rejects(
      mesh.workflow('bad-schema', [{ agent: 'calculator', task: 'x', outputSchema: zod3Tuple as never }]),
      (err: unknown) =>
        err instanceof WorkflowValidationError && /step "step0": outputSchema is a zod 3 schema/.test(err.message),
    );
  });

  test('package.json declares the zod versions automesh reads', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    assert.equal(pkg.peerDependencies?.zod, '^4.0.0');
    assert.match(pkg.dependencies?.zod ?? '', /^\^4\./, 'imported at run time, so also a dependency');
  });
});
