// One workflow id runs in one process at a time, with real processes on one LOG_DIRECTORY: two started at once
// (one runs every step, the other is refused naming it; with { wait: true } a third waits and recovers
// everything), and a SIGKILL in the middle of a workflow (the dead holder blocks the id until its lease expires,
// then the next process takes over and the finished steps make no new model call). The model is the local
// wire-protocol server, which counts every request.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useLlmSuite } from './helpers/llm-suite.js';
import { tempDir } from './helpers/temp.js';
import { holderOf, loadWorkflowState } from './helpers/workflow-state.js';
import type { ReceivedRequest, ScriptedReply } from './llm-server/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const suite = useLlmSuite('workflow-processes');

interface Outcome {
  code: number | null;
  /** Parsed stdout: the envelopes, or `{ error, code, holder }` when refused. */
  report: unknown;
  stdout: string;
  stderr: string;
}

interface Runner {
  pid: number;
  stderr: () => string;
  kill: () => Promise<void>;
  outcome: Promise<Outcome>;
}

/** Starts `test/fixtures/workflow-runner.ts` on `dir` with `env` over this process's environment. */
function start(dir: string, env: Record<string, string>): Runner {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'workflow-runner.ts')], {
    env: { ...process.env, LLM_ENDPOINT: suite.server.url, LOG_DIRECTORY: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const outcome = new Promise<Outcome>((resolve) => {
    child.once('close', (code) => {
      let report: unknown = null;
      try {
        report = JSON.parse(stdout);
      } catch {
        // Left null: the assertions show stdout and stderr.
      }
      resolve({ code, report, stdout, stderr });
    });
  });
  return {
    pid: child.pid as number,
    stderr: () => stderr,
    kill: async () => {
      child.kill('SIGKILL');
      await outcome;
    },
    outcome,
  };
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

function fenced(code: string): ScriptedReply {
  return { kind: 'text', text: `Here is the step:\n\n\`\`\`typescript\n${code}\n\`\`\`\n` };
}

/** The three steps of the fixture; `three` answers with `threeReply()`, `one` once `oneGate` opens. */
function model(
  threeReply: () => ScriptedReply,
  oneGate: Promise<void> = Promise.resolve(),
): (req: ReceivedRequest) => Promise<ScriptedReply> {
  return async (req) => {
    const task = taskOf(req);
    if (task.includes('Step one')) {
      await oneGate;
      return fenced('const one: string = "one";\nresult = one;');
    }
    if (task.includes('Step two')) return fenced('result = context.one.output === "one" ? "two" : "?";');
    if (task.includes('Step three')) return threeReply();
    return { kind: 'error', status: 400, message: `test: no reply for ${JSON.stringify(task)}` };
  };
}

const three = (): ScriptedReply => fenced('result = context.one.output + "+" + context.two.output + "+three";');

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const asked = (step: string): number => suite.server.requests('vllm').filter((r) => taskOf(r).includes(step)).length;

test('two processes start one workflow id: one runs every step, the other is refused naming it; with wait a third runs after and recovers all', async () => {
  const dir = tempDir('workflow-two');
  let open: () => void = () => undefined;
  suite.server.respond(
    'vllm',
    model(
      three,
      new Promise((resolve) => {
        open = resolve;
      }),
    ),
  );
  const first = start(dir, { WORKFLOW_ID: 'shared' });
  await until(() => asked('Step one') === 1, 'the first process to call the model');
  const refused = start(dir, { WORKFLOW_ID: 'shared' });
  const waiting = start(dir, { WORKFLOW_ID: 'shared', WORKFLOW_WAIT: '1' });

  const no = await refused.outcome;
  // The first process holds step one until the others have tried the id: the refused one gave up, the waiting one
  // is polling.
  await until(() => /^ready$/m.test(waiting.stderr()), 'the waiting process to start');
  await new Promise((resolve) => setTimeout(resolve, 300));
  open();
  assert.equal(no.code, 3, `${no.stdout}\n${no.stderr}`);
  const report = no.report as { error: string; code: string; holder: { owner: { pid: number; host: string } } };
  assert.equal(report.code, 'locked');
  assert.equal(report.holder.owner.pid, first.pid);
  assert.match(
    report.error,
    new RegExp(`^Workflow "shared" is being run by pid ${first.pid} on ${hostname()} since \\d{4}-`),
  );

  const ran = await first.outcome;
  assert.equal(ran.code, 0, ran.stderr);
  assert.deepEqual(
    (ran.report as Array<{ output: unknown; recovered?: boolean }>).map((e) => [e.output, e.recovered ?? false]),
    [
      ['one', false],
      ['two', false],
      ['one+two+three', false],
    ],
  );
  const after = await waiting.outcome;
  assert.equal(after.code, 0, after.stderr);
  // That it waited for the first run shows in what it found: every step already finished (recovered), none run
  // again. (Not in exit times: the first process still stops its mesh after its workflow ended, and on a loaded
  // machine the waiting one can take over, recover and exit before that stop is done.)
  assert.deepEqual(
    (after.report as Array<{ output: unknown; recovered?: boolean }>).map((e) => [e.output, e.recovered ?? false]),
    [
      ['one', true],
      ['two', true],
      ['one+two+three', true],
    ],
    'it recovered every step',
  );
  assert.doesNotMatch(after.stderr + no.stderr, /event:step:started/, 'no other process started a step');
  assert.deepEqual(
    ['Step one', 'Step two', 'Step three'].map(asked),
    [1, 1, 1],
    'each step called the model once, in all',
  );
});

test('after a SIGKILL mid-workflow the id stays held until the lease expires; then the next process takes over with no repeated model call', async () => {
  const dir = tempDir('workflow-crash');
  let hang = true;
  suite.server.respond(
    'vllm',
    model(() => (hang ? { kind: 'hang' } : three())),
  );
  const lease = { WORKFLOW_ID: 'crashy', WORKFLOW_LEASE_TTL: '6' };
  const crashing = start(dir, lease);
  // Steps one and two announced (so saved) as finished, and step three, saved as running, waits on the model.
  await until(
    () =>
      /event:step:finished:one/.test(crashing.stderr())
      && /event:step:finished:two/.test(crashing.stderr())
      && asked('Step three') === 1,
    'the workflow to reach step three',
  );
  // The next process waits for the id while the first still holds it.
  const next = start(dir, { ...lease, WORKFLOW_WAIT: '1' });
  await until(() => /^ready$/m.test(next.stderr()), 'the next process to start');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await crashing.kill();
  const killedAt = Date.now();
  hang = false;

  const held = await holderOf(dir, 'crashy');
  assert.equal(held?.owner.pid, crashing.pid, 'the dead process still holds the id');
  assert.ok((held?.expiresAt ?? 0) > killedAt, 'until its lease expires');
  const interrupted = await loadWorkflowState(dir, 'crashy');
  assert.equal(interrupted?.status, 'running');
  assert.equal(interrupted?.steps.three?.status, 'running');
  assert.equal(interrupted?.steps.one?.status, 'success');
  const callsBefore = suite.server.requests('vllm').length;

  const done = await next.outcome;
  assert.equal(done.code, 0, done.stderr);
  const newCalls = suite.server.requests('vllm').slice(callsBefore);
  assert.ok(
    newCalls.every((r) => r.at >= (held?.expiresAt ?? 0)),
    'it took over only once the lease had expired',
  );
  assert.deepEqual(
    newCalls.map(taskOf).filter((t) => t.includes('Step one') || t.includes('Step two')),
    [],
    'finished steps made no new model call',
  );
  assert.equal(newCalls.map(taskOf).filter((t) => t.includes('Step three')).length, 1);
  assert.deepEqual(
    (done.report as Array<{ stepId: string; output: unknown; recovered?: boolean }>).map((r) => [
      r.stepId,
      r.output,
      r.recovered ?? false,
    ]),
    [
      ['one', 'one', true],
      ['two', 'two', true],
      ['three', 'one+two+three', false],
    ],
  );
});
