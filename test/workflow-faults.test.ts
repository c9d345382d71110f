// Faults stay where they happen: an unusable LOG_DIRECTORY is refused by mesh.start(), a state save that fails
// mid-workflow stops the workflow with `storage` instead of running every step first, and a resumed run's
// summary keeps this run's spend apart from what the recovered steps cost earlier. Real SDK over HTTP against
// the local wire-protocol server, the real sandbox and the database store.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoAgent, type Envelope, Mesh, type MeshEvents, resetCooldowns, WorkflowStorageError } from '../src/index.js';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import { runScript } from './helpers/run-script.js';
import { asNobody, nobodyCannotReachProject } from './helpers/unprivileged.js';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

const here = dirname(fileURLToPath(import.meta.url));
let server: LlmServer;
let scratch: string;

class CounterAgent extends AutoAgent {
  static override role = 'counter';
  static override capabilities = ['counting'];
  static override systemPrompt = 'You count things and return numbers.';
}

function config(logDir: string, extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 10,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 1,
    SANDBOX_MEMORY_MB: 64,
    MAX_REPAIR_ATTEMPTS: 0,
    REGISTRY_REUSE: false,
    LOG_DIRECTORY: logDir,
    ...extra,
  };
}

function fenced(code: string): string {
  return `Sure. This reads the context and sets \`result\`:\n\n\`\`\`typescript\n${code}\n\`\`\`\n`;
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

function route(routes: Record<string, string | (() => ScriptedReply)>): (req: ReceivedRequest) => ScriptedReply {
  return (req) => {
    const task = taskOf(req);
    for (const [key, answer] of Object.entries(routes)) {
      if (task.includes(key)) return typeof answer === 'string' ? { kind: 'text', text: fenced(answer) } : answer();
    }
    return { kind: 'error', status: 400, message: `test: no route for task ${JSON.stringify(task)}` };
  };
}

async function startedMesh(logDir: string, extra: Record<string, string | number | boolean> = {}): Promise<Mesh> {
  const mesh = new Mesh({ config: config(logDir, extra) });
  mesh.add(CounterAgent);
  await mesh.start();
  return mesh;
}

before(async () => {
  server = await LlmServer.start();
  scratch = mkdtempSync(join(tmpdir(), 'automesh-faults-'));
  // Readable by the unprivileged user the read-only test runs as when the tests run as root.
  chmodSync(scratch, 0o755);
});

after(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset();
  resetCooldowns();
});

describe('an unusable LOG_DIRECTORY is refused by mesh.start()', () => {
  const refused = async (logDir: string, reason: RegExp): Promise<void> => {
    const mesh = new Mesh({ config: config(logDir) });
    mesh.add(CounterAgent);
    const err = await mesh.start().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error, 'start() refused');
    assert.match(
      err.message,
      new RegExp(`^LOG_DIRECTORY=${logDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not usable: `),
    );
    assert.match(err.message, reason);
    assert.match(err.message, /Set LOG_DIRECTORY to a directory this process can write/);
    assert.equal(mesh.started, false);
    assert.equal(server.requests().length, 0, 'no model call');
  };

  test('a file', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    await refused(file, /a-file is a file, not a directory/);
  });

  test('not creatable: a part of the path is a file', async () => {
    const file = join(scratch, 'blocker');
    writeFileSync(file, 'x');
    await refused(join(file, 'logs'), /a part of .*blocker\/logs is a file, not a directory/);
  });

  test('read-only, found before any model call (a real process, unprivileged)', {
    skip: nobodyCannotReachProject(),
  }, async () => {
    const dir = join(scratch, 'read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    // Root writes anywhere, so the check runs as "nobody" when the tests run as root.
    const run = await runScript(join(here, 'fixtures', 'start-mesh.ts'), {
      env: { ...process.env, LLM_ENDPOINT: server.url, LOG_DIRECTORY: dir },
      cwd: join(here, '..'),
      ...asNobody,
    });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { stage: string; error?: string };
    assert.equal(report.stage, 'start', run.stdout);
    assert.match(
      report.error ?? '',
      new RegExp(
        `^LOG_DIRECTORY=${dir}.* is not usable: .*read-only.* is not writable \\(no permission to create files in it\\)`,
      ),
    );
    assert.equal(server.requests().length, 0, 'no model call');
  });
});

describe('a state save that fails mid-workflow', () => {
  test('stops the workflow: affected steps end with storage, the rest are skipped, no event claims a saved state', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'automesh-storage-'));
    // The database goes away while the first step waits for its model (its connection is closed, as when the
    // process loses its file): the step's state can no longer be saved.
    const storage = openSqliteStorage(databasePath(logDir), `LOG_DIRECTORY=${logDir}`);
    const mesh = new Mesh({ config: config(logDir), storage });
    mesh.add(CounterAgent);
    await mesh.start();
    server.respond(
      'vllm',
      route({
        'Count the rows': () => {
          void storage.close();
          return { kind: 'text', text: fenced('const rows: number[] = [1, 2, 3];\nresult = rows.length;') };
        },
        'Double the count': 'result = context.rows.output * 2;',
        'Count the columns': 'result = 4;',
      }),
    );
    const seen: string[] = [];
    const names = ['step:started', 'step:finished', 'step:failed', 'step:skipped', 'workflow:finished'] as const;
    const listeners = names.map(
      (event) =>
        [
          event,
          (p: MeshEvents[typeof event]) => {
            seen.push(`${event}:${'stepId' in p ? p.stepId : ''}`);
          },
        ] as const,
    );
    for (const [event, listener] of listeners) mesh.on(event, listener as never);
    try {
      const err = await mesh
        .workflow(
          'broken-disk',
          [
            { id: 'rows', agent: 'counter', task: 'Count the rows' },
            { id: 'double', agent: 'counter', task: 'Double the count', dependsOn: ['rows'] },
            { id: 'columns', agent: 'counter', task: 'Count the columns' },
          ],
          { concurrency: 1 },
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      assert.ok(err instanceof WorkflowStorageError, `rejected with WorkflowStorageError, got ${String(err)}`);
      assert.match(
        err.message,
        /^Workflow "broken-disk" stopped: the state of workflow "broken-disk" could not be saved under .*automesh\.db/,
      );
      assert.match(err.message, /was closed/);
      assert.match(err.message, /run the workflow again; saved steps resume/);
      const byId = Object.fromEntries(err.results.map((e: Envelope) => [e.stepId, e]));
      assert.equal(byId.rows?.status, 'failure');
      assert.equal(byId.rows?.errorCategory, 'storage');
      assert.equal(byId.rows?.output, null);
      assert.ok((byId.rows?.tokens.total ?? 0) > 0, 'the spend of the step that ran is kept');
      for (const id of ['double', 'columns']) {
        assert.equal(byId[id]?.status, 'skipped', id);
        assert.equal(byId[id]?.errorCategory, 'storage', id);
        assert.match(byId[id]?.error ?? '', /^Skipped: the state of workflow "broken-disk" could not be saved under /);
      }
      assert.deepEqual(
        server.requests('vllm').map(taskOf),
        ['Count the rows'],
        'no step started after the failed save',
      );
      assert.ok(
        !seen.some((e) => e.startsWith('step:finished')),
        `no step:finished for unsaved state: ${seen.join(', ')}`,
      );
      assert.ok(!seen.includes('workflow:finished:'));
      assert.deepEqual(
        seen.filter((e) => e.startsWith('step:started')),
        ['step:started:rows'],
      );
      assert.equal(err.results.summary.failed, 1);
      assert.equal(err.results.summary.skipped, 2);
    } finally {
      for (const [event, listener] of listeners) mesh.off(event, listener as never);
      await mesh.stop();
      await storage.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe('numbers that add up', () => {
  test("a resumed run reports its own spend, and the recovered steps' earlier spend apart", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'automesh-spend-'));
    const prices = join(logDir, 'prices.json');
    writeFileSync(
      prices,
      JSON.stringify({ asOf: '2026-11-01', models: { 'qwen2.5-coder': { input: 3, output: 15 } } }),
    );
    const mesh = await startedMesh(join(logDir, 'logs'), { LLM_PRICES_FILE: prices });
    try {
      let fixed = false;
      server.respond(
        'vllm',
        route({
          'Count the apples': 'result = 3;',
          'Count the pears': () => ({ kind: 'text', text: fenced(fixed ? 'result = 5;' : 'result = pears.length;') }),
          'Add the fruit': 'result = context.apples.output + context.pears.output;',
        }),
      );
      const steps = [
        { id: 'apples', agent: 'counter', task: 'Count the apples' },
        { id: 'pears', agent: 'counter', task: 'Count the pears' },
        { id: 'sum', agent: 'counter', task: 'Add the fruit', dependsOn: ['apples', 'pears'] },
      ];
      const first = await mesh.workflow('spend', steps, { fresh: true });
      const apples = first[0] as Envelope;
      assert.ok((apples.costUsd ?? 0) > 0, 'the model is priced');
      fixed = true;
      const second = await mesh.workflow('spend', steps);
      assert.deepEqual(
        second.map((e) => e.recovered ?? false),
        [true, false, false],
      );
      const ran = second.slice(1);
      const s = second.summary;
      assert.equal(
        s.tokens.total,
        ran.reduce((n, e) => n + e.tokens.total, 0),
        'tokens: this run',
      );
      assert.ok(Math.abs((s.costUsd ?? -1) - ran.reduce((n, e) => n + (e.costUsd ?? 0), 0)) < 1e-12, 'cost: this run');
      assert.deepEqual(s.recoveredTokens, apples.tokens, "the recovered step's earlier tokens, apart");
      assert.equal(s.recoveredCostUsd, apples.costUsd, "the recovered step's earlier cost, apart");

      const third = await mesh.workflow('spend', steps);
      assert.ok(third.every((e) => e.recovered));
      assert.deepEqual(
        [third.summary.tokens.total, third.summary.costUsd],
        [0, 0],
        'a fully recovered run spent nothing',
      );
      assert.equal(
        third.summary.recoveredTokens.total,
        apples.tokens.total + ran.reduce((n, e) => n + e.tokens.total, 0),
      );
    } finally {
      await mesh.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
