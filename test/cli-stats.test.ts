// `automesh stats`: the built CLI, in its own process, sums up a real result database (SQLite under LOG_DIRECTORY):
// per agent and per model, --since, --json, and a clear error for a --since it cannot read.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseSince } from '../src/cli/since.js';
import { unranStepEnvelope } from '../src/mesh/step-runner.js';
import { databasePath, openSqliteStorage } from '../src/storage/index.js';
import { type CliRun, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const work = tempDir('cli-stats');

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, work, { PATH: process.env.PATH ?? '', LOG_DIRECTORY: join(work, 'logs') }, 30_000);
}

const attempt = (provider: string | null, model: string | null, input: number, output: number, error?: string) => ({
  code: 'result = 1;',
  error: error ?? null,
  errorCategory: error ? 'runtime' : null,
  provider,
  model,
  tokens: { input, output, total: input + output },
  durationMs: 5,
  reply: provider ? 'a reply' : null,
  replyTruncated: false,
});

function envelope(role: string, fields: Record<string, unknown>): Record<string, unknown> {
  const base = unranStepEnvelope({ role, stepId: 'x' }, 'failure', '', null);
  return { ...base, status: 'success', output: 1, code: 'result = 1;', error: null, ...fields };
}

const DAY = 86_400_000;

before(async () => {
  const storage = openSqliteStorage(databasePath(join(work, 'logs')));
  const save = (id: string, role: string, ageMs: number, fields: Record<string, unknown>) =>
    storage.results.save({
      resultId: id,
      role,
      task: `task ${id}`,
      createdAt: new Date(Date.now() - ageMs).toISOString(),
      promptHashes: {},
      envelope: envelope(role, { resultId: id, ...fields }),
    });
  try {
    // calc: first try (claude), one repair (claude), a registry hit, a failure after one repair; all within a day.
    await save('c1', 'calc', 1000, {
      attempts: [attempt('claude', 'claude-sonnet-4-6', 100, 10)],
      tokens: { input: 100, output: 10, total: 110 },
      costUsd: 0.01,
      provider: 'claude',
      model: 'claude-sonnet-4-6',
    });
    await save('c2', 'calc', 2000, {
      repairs: 1,
      attempts: [
        attempt('claude', 'claude-sonnet-4-6', 100, 10, 'x is not defined'),
        attempt('claude', 'claude-sonnet-4-6', 200, 20),
      ],
      tokens: { input: 300, output: 30, total: 330 },
      costUsd: 0.03,
      provider: 'claude',
      model: 'claude-sonnet-4-6',
    });
    await save('c3', 'calc', 3000, { cached: true, attempts: [attempt(null, null, 0, 0)] });
    await save('c4', 'calc', 4000, {
      status: 'failure',
      output: null,
      repairs: 1,
      error: 'boom',
      errorCategory: 'runtime',
      attempts: [attempt('vllm', 'qwen', 50, 5, 'boom'), attempt('vllm', 'qwen', 50, 5, 'boom')],
      tokens: { input: 100, output: 10, total: 110 },
      costUsd: null,
      provider: 'vllm',
      model: 'qwen',
    });
    // Refused by its budget before any call: a failure that asked no model.
    await save('c5', 'calc', 5000, {
      status: 'failure',
      output: null,
      error: 'over budget',
      errorCategory: 'budget',
      attempts: [
        { ...attempt('claude', 'claude-sonnet-4-6', 0, 0, 'over budget'), errorCategory: 'budget', reply: null },
      ],
    });
    // writer: one task ten days ago, outside --since 1d.
    await save('w1', 'writer', 10 * DAY, {
      attempts: [attempt('claude', 'claude-sonnet-4-6', 1000, 100)],
      tokens: { input: 1000, output: 100, total: 1100 },
      costUsd: 0.5,
      provider: 'claude',
      model: 'claude-sonnet-4-6',
    });
  } finally {
    await storage.close();
  }
});

test('--json sums every result by agent and by model', async () => {
  const out = await cli(['stats', '--json']);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout);
  assert.equal(report.tasks, 6);
  assert.equal(report.since, null);
  assert.equal(report.damaged, 0);
  const calc = report.agents.find((a: { agent: string }) => a.agent === 'calc');
  assert.deepEqual(
    {
      tasks: calc.tasks,
      succeeded: calc.succeeded,
      failed: calc.failed,
      successRate: calc.successRate,
      generated: calc.generated,
      firstTry: calc.firstTry,
      firstTryRate: calc.firstTryRate,
      repairs: calc.repairs,
      registryHits: calc.registryHits,
      inputTokens: calc.inputTokens,
      unpricedTasks: calc.unpricedTasks,
      errors: calc.errors,
    },
    {
      tasks: 5,
      succeeded: 3,
      failed: 2,
      successRate: 0.6,
      generated: 3,
      firstTry: 1,
      firstTryRate: 1 / 3,
      repairs: 2,
      registryHits: 1,
      inputTokens: 500,
      unpricedTasks: 1,
      errors: { runtime: 1, budget: 1 },
    },
  );
  assert.ok(Math.abs(calc.costUsd - 0.04) < 1e-9);
  const claude = report.models.find((m: { provider: string }) => m.provider === 'claude');
  assert.deepEqual(
    { calls: claude.calls, inputTokens: claude.inputTokens, outputTokens: claude.outputTokens, tasks: claude.tasks },
    { calls: 4, inputTokens: 1400, outputTokens: 140, tasks: 3 },
  );
  assert.ok(Math.abs(claude.costUsd - 0.54) < 1e-9);
});

test('--since 1d leaves out older results; the table names agents, rates and models', async () => {
  const out = await cli(['stats', '--since', '1d']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^5 tasks since \d{4}-\d{2}-\d{2}T.*, \$0\.0400 in all/);
  assert.match(
    out.stdout,
    /calc\s+5\s+60\.0%\s+33\.3%\s+2\s+1\s+500\/50\s+\$0\.0400 \(\+1 unpriced\)\s+budget 1, runtime 1/,
  );
  assert.doesNotMatch(out.stdout, /writer/);
  assert.match(out.stdout, /claude\s+claude-sonnet-4-6\s+3\s+400\/40\s+2\s+\$0\.0400/);
  assert.match(out.stdout, /vllm\s+qwen\s+2\s+100\/10\s+1\s+\$0\.0000/);
});

test('a --since it cannot read is a usage error that says what to write', async () => {
  const out = await cli(['stats', '--since', 'yesterday']);
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /--since must be a duration back from now .*30m, 12h, 1d, 2w.* or a date .*; got "yesterday"/,
  );
  assert.equal(out.stdout, '');
});

test('parseSince: durations back from now and dates', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  assert.equal(parseSince('1d', now), '2026-12-01T12:00:00.000Z');
  assert.equal(parseSince('30m', now), '2026-12-02T11:30:00.000Z');
  assert.equal(parseSince('2w', now), '2026-11-18T12:00:00.000Z');
  assert.equal(parseSince('2026-11-30', now), '2026-11-30T00:00:00.000Z');
  assert.equal(parseSince('2026-11-30T08:00Z', now), '2026-11-30T08:00:00.000Z');
  for (const bad of ['', '1', 'd', '1y', '-1d', '2026-13-45', 'now'])
    assert.throws(() => parseSince(bad, now), /--since must be/);
});
