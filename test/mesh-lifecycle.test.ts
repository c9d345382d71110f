// Lifecycle races, each with a defined behaviour and a clear error before any model call: stop() while start()
// is in progress, work submitted while stop() drains, two tasks (or workflows) in flight with one id. Real SDK
// over HTTP against the local wire-protocol server, the real sandbox worker processes and file storage.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { AutoAgent, Mesh } from '../src/index.js';
import { useLlmSuite } from './helpers/llm-suite.js';
import type { ReceivedRequest, ScriptedReply } from './llm-server/server.js';

class ReporterAgent extends AutoAgent {
  static override role = 'reporter';
  static override capabilities = ['reports'];
  static override systemPrompt = 'You write short status reports as data.';
}

function config(extra: Record<string, string | number | boolean> = {}) {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: suite.server.url,
    LLM_MODEL: 'qwen2.5-coder',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 10,
    EXECUTION_TIMEOUT: 2,
    SANDBOX_WORKERS: 2,
    SANDBOX_MEMORY_MB: 64,
    MAX_REPAIR_ATTEMPTS: 0,
    REGISTRY_REUSE: false,
    LOG_DIRECTORY: suite.logDir,
    ...extra,
  };
}

/** A model that takes `delayMs` to answer each task with a small report. */
function slowModel(delayMs: number): (req: ReceivedRequest) => ScriptedReply {
  return (req) => {
    const task = /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
    return {
      kind: 'text',
      delayMs,
      text: `Here is the report:\n\n\`\`\`ts\nconst report: string = ${JSON.stringify(`done: ${task}`)};\nresult = report;\n\`\`\`\n`,
    };
  };
}

/** Processes this test process has started (the sandbox workers; the model server runs in this process). */
function childProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out === ''
    ? []
    : out
        .split('\n')
        .map((line) => Number(line.trim()))
        .filter((pid) => pid > 0);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function startedMesh(): Promise<{ mesh: Mesh; reporter: AutoAgent }> {
  const mesh = new Mesh({ config: config() });
  mesh.add(ReporterAgent);
  await mesh.start();
  return { mesh, reporter: mesh.getAgent('reporter') as AutoAgent };
}

const suite = useLlmSuite('lifecycle');

test('stop() while start() is in progress: start() rejects, no worker is left running, and the mesh can start again', async () => {
  const before = childProcesses();
  const mesh = new Mesh({ config: config() });
  mesh.add(ReporterAgent);
  const starting = mesh.start();
  await mesh.stop();
  const err = await starting.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error, 'start() rejected');
  assert.match(err.message, /^mesh\.stop\(\) was called while mesh\.start\(\) was in progress: the mesh did not start/);
  assert.equal(mesh.started, false);
  await until(() => childProcesses().length === before.length, 'the sandbox workers to exit');
  await assert.rejects((mesh.getAgent('reporter') as AutoAgent).executeTask({ task: 'Report' }), /is not running/);

  suite.server.respond('vllm', slowModel(0));
  await mesh.start();
  const envelope = await (mesh.getAgent('reporter') as AutoAgent).executeTask({ task: 'Report the weather' });
  assert.equal(envelope.output, 'done: Report the weather');
  await mesh.stop();
});

test('work submitted while stop() drains is refused before any model call; the work in flight finishes', async () => {
  const { mesh, reporter } = await startedMesh();
  suite.server.respond('vllm', slowModel(600));
  const inFlight = reporter.executeTask({ task: 'Report the sales' });
  await until(() => suite.server.requests('vllm').length === 1, 'the first model call');
  const stopping = mesh.stop();
  const lateTask = await reporter.executeTask({ task: 'Report the costs' }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(lateTask instanceof Error);
  assert.match(
    lateTask.message,
    /^Cannot start a task: mesh\.stop\(\) is in progress .*Start work before stop\(\), or after the next start\(\)\.$/,
  );
  const lateWorkflow = await mesh.workflow('late', [{ agent: 'reporter', task: 'Report the stock' }]).then(
    () => null,
    (e: unknown) => e,
  );
  assert.match((lateWorkflow as Error).message, /^Cannot start a workflow: mesh\.stop\(\) is in progress/);
  const secondStop = mesh.stop();
  await Promise.all([stopping, secondStop]);
  assert.equal((await inFlight).output, 'done: Report the sales', 'the task in flight finished (wait mode)');
  assert.deepEqual(suite.server.requests('vllm').length, 1, 'no model call for work submitted during stop()');
  assert.equal(mesh.started, false);
});

test('a task id or workflow id already in flight is refused before any model call; free again once it ends', async () => {
  const { mesh, reporter } = await startedMesh();
  try {
    suite.server.respond('vllm', slowModel(300));
    const first = reporter.executeTask({ id: 'weekly-report', task: 'Report the week' });
    const second = await reporter.executeTask({ id: 'weekly-report', task: 'Report the week again' }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(second instanceof Error);
    assert.match(
      second.message,
      /^Task id "weekly-report" is already used by a task still running in this mesh; .*Await the first task, or give this one another id\.$/,
    );
    assert.equal((await first).resultId, 'weekly-report');
    assert.equal(suite.server.requests('vllm').length, 1, 'the refused task made no model call');
    const again = await reporter.executeTask({ id: 'weekly-report', task: 'Report the week again' });
    assert.equal(again.output, 'done: Report the week again', 'the id is free once the first task ended');

    const steps = [{ agent: 'reporter', task: 'Report the quarter' }];
    const run = mesh.workflow('quarterly', steps, { fresh: true });
    const rival = await mesh.workflow('quarterly', steps, { fresh: true }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.match(
      (rival as Error).message,
      /^Workflow "quarterly" is already running in this mesh; .*overwrite each other's saved state/,
    );
    assert.equal((await run)[0]?.output, 'done: Report the quarter');
    assert.equal(suite.server.requests('vllm').length, 3);
  } finally {
    await mesh.stop();
  }
});
