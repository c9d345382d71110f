// The studio's request handler over real HTTP on a real database: the JSON API (workflows and their graphs, step
// envelopes, results, the registry's full-text search, the numbers), live step states as server-sent events, the
// bearer token off loopback, secrets redacted from every answer, mounting under a base path, the built page.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { databasePath, openSqliteStorage, type Storage, type WorkflowLease } from '../src/storage/index.js';
import { assertExposable, createStudio, type StudioServer, serveStudio } from '../src/studio/index.js';
import { tempDir } from './helpers/temp.js';
import { entry, header, owner, result, step } from './storage/conformance.js';

const SECRET = 'sk-test-0123456789abcdef';
const NOW = Date.parse('2026-03-02T12:00:00.000Z');

let storage: Storage;
let studio: StudioServer;
let lease: WorkflowLease;

const attempt = (over: Record<string, unknown> = {}) => ({
  code: 'result = 1',
  error: null,
  errorCategory: null,
  provider: 'vllm',
  model: 'qwen',
  tokens: { input: 10, output: 5, total: 15 },
  durationMs: 12,
  reply: '```js\nresult = 1\n```',
  replyTruncated: false,
  ...over,
});

const failed = (category: string) => attempt({ error: `${category} went wrong`, errorCategory: category });

async function seed(): Promise<void> {
  const at = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
  const results = [
    result({
      resultId: 'r1',
      role: 'calculator',
      createdAt: at(30),
      envelope: {
        status: 'success',
        repairs: 0,
        cached: false,
        model: 'qwen',
        costUsd: 0.5,
        tokens: { total: 100 },
        attempts: [attempt()],
      },
    }),
    result({
      resultId: 'r2',
      role: 'calculator',
      createdAt: at(29),
      envelope: {
        status: 'success',
        repairs: 0,
        cached: true,
        model: null,
        costUsd: 0,
        tokens: { total: 0 },
        attempts: [attempt({ provider: null })],
      },
    }),
    result({
      resultId: 'r3',
      role: 'writer',
      createdAt: at(5),
      envelope: {
        status: 'success',
        repairs: 2,
        model: 'claude',
        costUsd: 1.25,
        tokens: { total: 300 },
        attempts: [failed('syntax'), failed('runtime'), attempt()],
      },
    }),
    result({
      resultId: 'r4',
      role: 'writer',
      createdAt: at(4),
      envelope: {
        status: 'failure',
        repairs: 1,
        model: 'claude',
        costUsd: null,
        error: `401 from ${SECRET}`,
        errorCategory: 'runtime',
        tokens: { total: 50 },
        attempts: [failed('runtime'), failed('runtime')],
      },
    }),
    result({
      resultId: 'old',
      role: 'writer',
      createdAt: at(24 * 40),
      envelope: { status: 'success', repairs: 0, model: 'claude', costUsd: 9, tokens: { total: 1 }, attempts: [] },
    }),
  ];
  for (const r of results) await storage.results.save(r);
  await storage.registry.put(entry({ task: 'Compute the factorial of 10', stage: 'golden', successCount: 7 }));
  await storage.registry.put(
    entry({
      task: 'Sort the names alphabetically',
      role: 'writer',
      code: 'result = names.sort();',
      stage: 'candidate',
    }),
  );
  lease = await storage.workflows.claim('report', owner('run-a'), 60_000);
  await storage.workflows.saveHeader(lease, {
    ...header('report', { stepIds: ['fetch', 'sum', 'write'] }),
    plan: [
      { stepId: 'fetch', role: 'calculator', dependsOn: [] },
      { stepId: 'sum', role: 'calculator', dependsOn: ['fetch'] },
      { stepId: 'write', role: 'writer', dependsOn: ['fetch', 'sum'] },
    ],
  });
  await storage.workflows.saveStep(
    lease,
    step('fetch', 0, {
      envelope: {
        status: 'success',
        output: [1, 2],
        code: 'result = [1, 2]',
        repairs: 1,
        costUsd: 0.25,
        tokens: { total: 40 },
        attempts: [failed('syntax'), attempt()],
        error: null,
        note: `key ${SECRET}`,
      },
    }),
  );
  await storage.workflows.saveStep(lease, step('sum', 1, { status: 'running', envelope: null, finishedAt: null }));
}

before(async () => {
  storage = openSqliteStorage(databasePath(tempDir('studio-handler')), 'test');
  await seed();
  studio = await serveStudio({
    source: { storage, location: 'the test database' },
    port: 0,
    secrets: [SECRET],
    pollMs: 20,
    now: () => NOW,
  });
});
after(async () => {
  await studio?.close();
  await storage?.close();
});

async function get(path: string, headers: Record<string, string> = {}, base = studio.url) {
  const res = await fetch(new URL(path, base), { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text.startsWith('{') ? JSON.parse(text) : null };
}

describe('studio API', () => {
  test('workflows: the list, and one graph with every planned step, its dependencies and live state', async () => {
    const list = await get('api/workflows');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.workflows.map((w: { workflowId: string }) => w.workflowId),
      ['report'],
    );
    const graph = (await get('api/workflows/report')).body;
    assert.deepEqual(
      graph.steps.map((s: Record<string, unknown>) => [s.stepId, s.role, s.status, s.dependsOn]),
      [
        ['fetch', 'calculator', 'success', []],
        ['sum', 'calculator', 'running', ['fetch']],
        ['write', 'writer', 'pending', ['fetch', 'sum']],
      ],
    );
    assert.equal(graph.steps[0].repairs, 1);
    assert.equal(graph.steps[0].costUsd, 0.25);
  });

  test("a step's envelope: output, code, attempts with the raw replies; secrets redacted", async () => {
    const { body, text } = await get('api/workflows/report/steps/fetch');
    assert.deepEqual(body.envelope.output, [1, 2]);
    assert.equal(body.envelope.code, 'result = [1, 2]');
    assert.equal(body.envelope.attempts[0].errorCategory, 'syntax');
    assert.equal(body.envelope.attempts[1].reply, '```js\nresult = 1\n```');
    assert.equal(body.envelope.note, 'key [redacted]');
    assert.ok(!text.includes(SECRET));
    const stored = (await get('api/results/r4')).text;
    assert.match(stored, /401 from \[redacted\]/);
    assert.ok(!stored.includes(SECRET));
  });

  test('unknown workflows, steps and results are 404, a bad id 400, a write 405, each with an error', async () => {
    assert.equal((await get('api/workflows/nope')).status, 404);
    const missing = await get('api/workflows/report/steps/nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /Step "nope" of workflow "report" was not found/);
    assert.equal((await get('api/results/nope')).status, 404);
    assert.equal((await get('api/nothing')).status, 404);
    const bad = await get('api/workflows/..%2Fup');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /workflow id/i);
    assert.equal((await get('api/results?limit=0')).status, 400);
    const post = await fetch(new URL('api/workflows', studio.url), { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('the registry: full-text search, counts per stage, an entry with its code', async () => {
    const all = (await get('api/registry')).body;
    assert.equal(all.entries.length, 2);
    assert.deepEqual(all.stages, { golden: 1, candidate: 1 });
    assert.equal(all.entries[0].code, undefined, 'listings carry no code');
    const found = (await get('api/registry?q=factorial')).body;
    assert.deepEqual(
      found.entries.map((e: { task: string }) => e.task),
      ['Compute the factorial of 10'],
    );
    assert.deepEqual(found.stages, { golden: 1 });
    const one = (await get(`api/registry/${found.entries[0].id}`)).body;
    assert.match(one.code, /f \*= i/);
    assert.equal(one.successCount, 7);
  });

  test('results and the numbers of a window: cost per agent and per model, first try, repairs by category', async () => {
    assert.deepEqual(
      (await get('api/results?role=writer&limit=2')).body.results.map((r: { resultId: string }) => r.resultId),
      ['r4', 'r3'],
    );
    const stats = (await get('api/stats?since=7d')).body;
    assert.equal(stats.bucket, 'day');
    assert.deepEqual(stats.byAgent.calculator, { tasks: 2, succeeded: 2, tokens: 100, costUsd: 0.5, unpriced: 0 });
    assert.deepEqual(stats.byAgent.writer, { tasks: 2, succeeded: 1, tokens: 350, costUsd: 1.25, unpriced: 1 });
    assert.deepEqual(Object.keys(stats.byModel).sort(), ['(registry)', 'claude', 'qwen']);
    assert.equal(stats.repairs.tasks, 4, 'the 40-day-old result is outside the window');
    assert.equal(stats.repairs.firstTry, 2);
    assert.equal(stats.repairs.cached, 1);
    assert.deepEqual(stats.repairs.afterRepairs, { 2: 1 });
    assert.equal(stats.repairs.failed, 1);
    assert.deepEqual(stats.repairs.byCategory, {
      syntax: { attempts: 1, repaired: 1, finalFailures: 0 },
      runtime: { attempts: 3, repaired: 1, finalFailures: 1 },
    });
    const hourly = (await get('api/stats?since=24h')).body;
    assert.equal(hourly.bucket, 'hour');
    assert.equal(hourly.repairs.tasks, 2);
    const bad = await get('api/stats?since=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /24h, 7d or 30d/);
  });

  test('agents without a mesh: the roles of the result log, no node', async () => {
    const { agents } = (await get('api/agents')).body;
    assert.deepEqual(
      agents.map((a: { name: string; node: null }) => [a.name, a.node]),
      [
        ['calculator', null],
        ['writer', null],
      ],
    );
  });

  test('live states: the stream sends the graph, each change, and ends when the workflow ended', {
    timeout: 5_000,
  }, async () => {
    const res = await fetch(new URL('api/workflows/report/events', studio.url));
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${seen}`);
        seen += value;
      }
    };
    await until(/event: graph\ndata: .*"stepId":"sum".*?"status":"running"/);
    await storage.workflows.saveStep(lease, step('sum', 1, { status: 'success' }));
    await until(
      /"stepId":"sum","index":1,"role":"calculator","task":"Step sum","dependsOn":\["fetch"\],"status":"success"/,
    );
    await storage.workflows.saveHeader(lease, {
      ...header('report', { stepIds: ['fetch', 'sum', 'write'] }),
      status: 'finished',
    });
    await until(/event: end\ndata: \{"status":"finished"\}/);
    assert.equal((await reader.read()).done, true, 'the stream ends after end');
    assert.ok(!seen.includes(SECRET));
  });

  test('the page and its bundle are served (no CDN), with a strict content policy', async () => {
    const page = await get('');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script type="module" src="\.\/app\.js"><\/script>/);
    assert.doesNotMatch(page.text, /https?:\/\//);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const app = await get('app.js');
    assert.equal(app.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.ok(app.text.length > 5000);
    assert.doesNotMatch(app.text, /from ?["']https?:/);
    assert.equal((await get('../etc/passwd')).status, 404);
  });
});

describe('studio access', () => {
  test('off loopback a token is required; with one, api routes need it as a bearer token', async () => {
    assert.throws(
      () => assertExposable('0.0.0.0', undefined),
      /Refusing to serve the studio on 0\.0\.0\.0 without SERVE_TOKEN/,
    );
    assert.throws(() => assertExposable('192.168.1.5', ''), /SERVE_TOKEN/);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assertExposable(host, undefined);
    await assert.rejects(serveStudio({ source: { storage, location: 'x' }, host: '0.0.0.0', port: 0 }), /SERVE_TOKEN/);
    const guarded = await serveStudio({ source: { storage, location: 'x' }, port: 0, token: 'tok-secret-123' });
    try {
      const none = await get('api/workflows', {}, guarded.url);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await get('api/workflows', { authorization: 'Bearer wrong' }, guarded.url)).status, 401);
      assert.equal((await get('api/workflows', { authorization: 'Bearer tok-secret-12' }, guarded.url)).status, 401);
      const ok = await get('api/overview', { authorization: 'Bearer tok-secret-123' }, guarded.url);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, { location: 'x', tokenRequired: true });
      assert.equal((await get('', {}, guarded.url)).status, 200, 'the page holds no data');
    } finally {
      await guarded.close();
    }
  });

  test('mounted under a base path beside other routes: answers only there', async () => {
    const handler = createStudio({ source: { storage, location: 'mounted' }, basePath: '/studio/' });
    assert.throws(
      () => createStudio({ source: { storage, location: 'x' }, basePath: 'studio' }),
      /basePath must start and end with "\/"/,
    );
    const server: Server = createServer(async (req, res) => {
      if (!(await handler.handle(req, res))) res.writeHead(418).end('other route');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal((await fetch(`${base}/health`)).status, 418);
      const redirect = await fetch(`${base}/studio`, { redirect: 'manual' });
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.get('location'), '/studio/');
      assert.equal((await get('/studio/api/overview', {}, base)).body.location, 'mounted');
    } finally {
      handler.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
