// The workflow engine driven directly: every step call and progress event crossing the step-runner seam is JSON
// data; on a shared workflow store one run holds a workflow id at a time (a second is refused with the holder
// named, or waits with { wait: true } and resumes what the first finished), a crashed holder's lease expires and
// the next run takes over, a run whose lease was taken over stops; a step's record keeps a bounded share of its
// console output. Real agents, sandbox and SDK over HTTP against the local wire-protocol server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import {
  AutoAgent,
  createMemoryStorage,
  Mesh,
  type MeshEvents,
  type StepCall,
  type StepProgress,
  type StepRunner,
  WorkflowLockedError,
  WorkflowStorageError,
  type WorkflowStore,
} from '../src/index.js';
import { InProcessStepRunner } from '../src/mesh/in-process-runner.js';
import { type EngineDeps, runWorkflow, type WorkflowOptions, type WorkflowPlan } from '../src/mesh/workflow-engine.js';
import { resolveWorkflow, type WorkflowStep } from '../src/mesh/workflow-spec.js';
import { type LeaseTiming, leaseTiming, STORED_LOG_BYTES, STORED_LOG_LINES } from '../src/mesh/workflow-state.js';
import { useLlmSuite } from './helpers/llm-suite.js';
import type { ReceivedRequest, ScriptedReply } from './llm-server/server.js';

class ClerkAgent extends AutoAgent {
  static override role = 'clerk';
  static override capabilities = ['records'];
  static override systemPrompt = 'You keep records and count things.';
}

const suite = useLlmSuite('workflow-lease');
let mesh: Mesh;
let runner: InProcessStepRunner;
let starting: Promise<void> | null = null;

/** Starts the mesh once, in the first test (the suite's server is up by then). */
function started(): Promise<void> {
  starting ??= (async () => {
    // Priced, so that a workflow budget can bound it.
    const prices = join(suite.logDir, 'prices.json');
    writeFileSync(
      prices,
      JSON.stringify({ asOf: '2026-11-01', models: { 'qwen2.5-coder': { input: 3, output: 15 } } }),
    );
    mesh = new Mesh({
      config: {
        LLM_PRICES_FILE: prices,
        LLM_PROVIDER_ORDER: 'vllm',
        LLM_ENDPOINT: suite.server.url,
        LLM_MODEL: 'qwen2.5-coder',
        LLM_MAX_RETRIES: 0,
        LLM_TIMEOUT: 10,
        EXECUTION_TIMEOUT: 5,
        SANDBOX_WORKERS: 2,
        SANDBOX_MEMORY_MB: 64,
        MAX_REPAIR_ATTEMPTS: 1,
        REGISTRY_REUSE: true,
        LOG_DIRECTORY: join(suite.logDir, 'logs'),
      },
      // Results and registry in memory: nothing is written after the test file removes its folder.
      storage: createMemoryStorage(),
    });
    mesh.add(ClerkAgent);
    await mesh.start();
    runner = new InProcessStepRunner(new Map(mesh.agents.map((agent) => [agent.role, agent])));
  })();
  return starting;
}

after(async () => {
  await mesh?.stop();
});

/** A store of its own for a test, which its runs share as processes on one LOG_DIRECTORY would. */
function sharedStore(): WorkflowStore {
  return createMemoryStorage().workflows;
}

function deps(
  store: WorkflowStore,
  lease: LeaseTiming = leaseTiming(30_000),
  stepRunner: StepRunner = runner,
): EngineDeps {
  return {
    runner: stepRunner,
    events: mesh,
    store,
    storageLocation: 'the test store',
    defaultConcurrency: 8,
    lease,
    stopSignal: new AbortController().signal,
  };
}

function plan(workflowId: string, steps: WorkflowStep[]): WorkflowPlan {
  const resolved = resolveWorkflow(workflowId, steps, {
    resolve: (name) => mesh.resolveAgent(name),
    describe: () => 'roles: clerk',
  });
  return { workflowId, steps: runner.plan(workflowId, resolved).steps, budget: null };
}

function run(
  store: WorkflowStore,
  workflowId: string,
  steps: WorkflowStep[],
  options: WorkflowOptions = {},
  lease?: LeaseTiming,
) {
  return runWorkflow(deps(store, lease), plan(workflowId, steps), options);
}

function taskOf(req: ReceivedRequest): string {
  return /Task: (.*)/.exec(req.messages[0]?.content ?? '')?.[1] ?? '';
}

/** Answers every task with the code for it, after `delayMs`. */
function model(codeFor: Record<string, string>, delayMs = 0): (req: ReceivedRequest) => ScriptedReply {
  return (req) => {
    const task = taskOf(req);
    const code = Object.entries(codeFor).find(([key]) => task.includes(key))?.[1];
    if (code === undefined)
      return { kind: 'error', status: 400, message: `test: no reply for ${JSON.stringify(task)}` };
    return { kind: 'text', delayMs, text: `This keeps the record as asked:\n\n\`\`\`typescript\n${code}\n\`\`\`\n` };
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** JSON text and back: what a runner in another process would receive. */
function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

test('every step call and progress event is JSON data: a runner that passes them through JSON runs the workflow', async () => {
  await started();
  suite.server.respond('vllm', (req) => {
    const task = taskOf(req);
    const repairing = req.messages[0]?.content.includes('Your code failed') ?? false;
    const code = task.includes('Count the invoices')
      ? 'const invoices: number = 12;\nresult = { invoices };'
      : repairing
        ? 'result = context.count.output.invoices * 2;'
        : 'result = context.count.output.invoices.total.value;';
    return { kind: 'text', text: `I read the invoices from \`context\`:\n\n\`\`\`typescript\n${code}\n\`\`\`\n` };
  });
  const calls: StepCall[] = [];
  const progress: StepProgress[] = [];
  const overJson: StepRunner = {
    async run(call, signal, onProgress) {
      const sent = wire(call);
      assert.deepEqual(sent, call, `the call of step ${call.stepId} is JSON data`);
      calls.push(sent);
      const envelope = await runner.run(sent, signal, (event) => {
        assert.deepEqual(wire(event), event, 'a progress event is JSON data');
        progress.push(wire(event));
        onProgress(wire(event));
      });
      return wire(envelope);
    },
  };
  const repaired: string[] = [];
  const onRepaired = (e: MeshEvents['step:repaired']): void => {
    repaired.push(`${e.workflowId}/${e.stepId}:${e.errorCategory}`);
  };
  mesh.on('step:repaired', onRepaired);
  try {
    const steps: WorkflowStep[] = [
      { id: 'count', agent: 'clerk', task: 'Count the invoices', outputSchema: z.object({ invoices: z.number() }) },
      { id: 'check', agent: 'records', task: 'Double the invoice count', dependsOn: ['count'] },
    ];
    const budgeted = {
      ...plan('seam', steps),
      budget: { label: 'the budget of workflow "seam" (budgetUsd)', limitUsd: 1 },
    };
    const results = await runWorkflow(deps(sharedStore(), leaseTiming(30_000), overJson), budgeted, { fresh: true });
    assert.deepEqual(
      results.map((e) => [e.stepId, e.status, e.output]),
      [
        ['count', 'success', { invoices: 12 }],
        ['check', 'success', 24],
      ],
    );

    const [count, check] = calls;
    assert.deepEqual(
      count?.outputSchema?.jsonSchema.properties,
      { invoices: { type: 'number' } },
      'the schema travels as JSON Schema',
    );
    assert.equal(typeof count?.outputSchema?.ref, 'string');
    assert.equal(check?.outputSchema, null);
    assert.equal(check?.role, 'clerk', 'a capability is resolved to a role before the call');
    assert.deepEqual(check?.dependencies, ['count']);
    assert.ok(check, 'the check step made no call');
    assert.deepEqual((check.context.count as { output: unknown }).output, { invoices: 12 });
    assert.deepEqual(check?.context.previousStepResults, { count: check?.context.count });
    assert.deepEqual([check?.context.workflowId, check?.context.stepId], ['seam', 'check']);
    assert.equal(count?.budget?.spentUsd, 0);
    assert.ok((results[0]?.costUsd ?? 0) > 0);
    assert.equal(check?.budget?.spentUsd, results[0]?.costUsd, 'the next call carries what the run spent');
    assert.equal(check?.budget?.key, count?.budget?.key, 'one budget for the run');
    assert.deepEqual(
      progress.map((e) => e.type),
      ['repaired'],
    );
    assert.deepEqual(repaired, ['seam/check:runtime'], 'progress reached the mesh events');
  } finally {
    mesh.off('step:repaired', onRepaired);
  }
});

/** Two steps on a book: each test its own book, since code registered by one test would answer the next. */
function book(name: string): { steps: WorkflowStep[]; code: Record<string, string> } {
  return {
    steps: [
      { id: 'open', agent: 'clerk', task: `Open the ${name}` },
      { id: 'close', agent: 'clerk', task: `Close the ${name}`, dependsOn: ['open'] },
    ],
    code: {
      [`Open the ${name}`]: 'const opened: number = 100;\nresult = opened;',
      [`Close the ${name}`]: 'result = context.open.output + 1;',
    },
  };
}

test('a second run of a held id is refused naming the holder; with wait it runs after, recovering every step', async () => {
  await started();
  const store = sharedStore();
  const ledger = book('ledger');
  suite.server.respond('vllm', model(ledger.code, 400));
  const first = run(store, 'held', ledger.steps, { fresh: true });
  await until(() => suite.server.requests('vllm').length === 1, "the first run's first model call");

  const refused = await run(store, 'held', ledger.steps).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof WorkflowLockedError, `refused with WorkflowLockedError, got ${String(refused)}`);
  assert.equal(refused.code, 'locked');
  assert.equal(refused.holder.owner.pid, process.pid);
  assert.match(
    refused.message,
    new RegExp(`^Workflow "held" is being run by pid ${process.pid} on ${hostname()} since \\d{4}-\\d\\d-\\d\\dT`),
  );
  assert.match(refused.message, /pass \{ wait: true \}/);

  const waited = run(store, 'held', ledger.steps, { wait: true });
  const results = await first;
  assert.deepEqual(
    results.map((e) => e.output),
    [100, 101],
  );
  const after = await waited;
  assert.deepEqual(
    after.map((e) => [e.output, e.recovered ?? false]),
    [
      [100, true],
      [101, true],
    ],
    'the waiting run resumed what the first finished',
  );
  assert.equal(suite.server.requests('vllm').length, 2, 'the refused and the waiting run made no model call');
});

test('a crashed holder blocks the id until its lease expires; then the next run takes over, one generation on', async () => {
  await started();
  const store = sharedStore();
  const ledger = book('register');
  suite.server.respond('vllm', model(ledger.code));
  const dead = { runId: 'crashed-run', host: 'build-7', pid: 4242, since: '2026-12-01T01:00:00.000Z' };
  await store.claim('orphan', dead, 400);
  const refused = await run(store, 'orphan', ledger.steps).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof WorkflowLockedError);
  assert.match(
    refused.message,
    /^Workflow "orphan" is being run by pid 4242 on build-7 since 2026-12-01T01:00:00\.000Z/,
  );

  const generations: number[] = [];
  const onStart = ({ workflowId }: { workflowId: string }): void => {
    if (workflowId === 'orphan') void store.holder('orphan').then((lease) => generations.push(lease?.generation ?? -1));
  };
  mesh.on('workflow:started', onStart);
  try {
    const begun = Date.now();
    const results = await run(store, 'orphan', ledger.steps, { wait: true }, leaseTiming(30_000));
    assert.ok(Date.now() - begun >= 300, 'it waited for the lease to expire');
    assert.deepEqual(
      results.map((e) => e.status),
      ['success', 'success'],
    );
    assert.deepEqual(generations, [2], 'the take-over is the second generation');
    assert.equal(await store.holder('orphan'), null, 'released at the end');
  } finally {
    mesh.off('workflow:started', onStart);
  }
});

test('a run whose lease was taken over stops starting steps and fails, naming the take-over', async () => {
  await started();
  const store = sharedStore();
  const ledger = book('journal');
  suite.server.respond('vllm', model(ledger.code, 600));
  // A lease of 200 ms that this run never renews in time: it stalls, as a run on an overloaded machine may.
  const stalled = { ttlMs: 200, renewEveryMs: 60_000, pollMs: 20 };
  const running = run(store, 'stolen', ledger.steps, { fresh: true }, stalled);
  await until(() => suite.server.requests('vllm').length === 1, "the first step's model call");
  await new Promise((resolve) => setTimeout(resolve, 250));
  const taker = await store.claim(
    'stolen',
    { runId: 'other-run', host: 'build-8', pid: 7, since: new Date().toISOString() },
    30_000,
  );
  assert.equal(taker.generation, 2);

  const err = await running.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowStorageError, `rejected with WorkflowStorageError, got ${String(err)}`);
  assert.match(
    err.message,
    /^Workflow "stolen" stopped: another run took workflow "stolen" over after this run's lease expired .*this run stopped starting steps/,
  );
  const [open, close] = err.results;
  assert.equal(open?.status, 'failure');
  assert.equal(open?.errorCategory, 'storage');
  assert.equal(close?.status, 'skipped');
  assert.equal(close?.errorCategory, 'storage');
  assert.deepEqual(
    suite.server.requests('vllm').map(taskOf),
    ['Open the journal'],
    'no step started after the lease was lost',
  );
  assert.equal((await store.holder('stolen'))?.owner.runId, 'other-run', 'the new owner keeps the workflow');
});

test('600 chatty steps: each record keeps the last lines of its logs, the state stays small', async () => {
  await started();
  const store = sharedStore();
  // ~40 KiB of console output per step, the same code for every step (registered once, then reused).
  suite.server.respond(
    'vllm',
    model({
      'Tally the batch':
        'for (let i = 0; i < 800; i++) console.log(`row ${i} of batch ${context.batch}: checked, balance unchanged`);\nresult = context.batch;',
    }),
  );
  const steps = Array.from({ length: 600 }, (_, i) => ({
    id: `b${i}`,
    agent: 'clerk',
    task: 'Tally the batch',
    context: { batch: i },
  }));
  // Each step record written, timed: a record's size, not the workflow's, decides what a save costs.
  const saves: number[] = [];
  const saveStep = store.saveStep.bind(store);
  store.saveStep = async (lease, record) => {
    const at = performance.now();
    await saveStep(lease, record);
    saves.push(performance.now() - at);
  };
  const begun = Date.now();
  const results = await run(store, 'chatty', steps, { fresh: true, concurrency: 16 });
  const took = Date.now() - begun;
  assert.ok(
    results.every((e, i) => e.status === 'success' && e.output === i),
    'every step ran',
  );
  assert.equal(results[7]?.logs.length, 800, 'the envelope returned keeps every line');

  const snapshot = await store.load('chatty');
  assert.ok(snapshot);
  assert.equal(snapshot.steps.length, 600);
  const record = snapshot.steps.find((s) => s.stepId === 'b7');
  assert.ok(record?.envelope, 'step b7 has no stored envelope');
  const logs = (record.envelope as { logs: string[] }).logs;
  assert.equal(logs.length, STORED_LOG_LINES + 1);
  assert.match(logs[0] ?? '', /^\[automesh: 750 earlier log lines \(\d+ bytes\) not kept in the workflow state\]$/);
  assert.equal(logs.at(-1), 'row 799 of batch 7: checked, balance unchanged');
  const bytes = Buffer.byteLength(JSON.stringify(snapshot));
  assert.ok(bytes < 600 * (STORED_LOG_BYTES + 4096), `the state is ${(bytes / 1e6).toFixed(1)} MB`);
  assert.ok(took < 120_000, `600 steps took ${took} ms`);
  assert.equal(saves.length, 1200, 'each step written twice: when it started and when it ended');
  saves.sort((x, y) => x - y);
  assert.ok((saves[600] ?? 0) < 5, `median save ${saves[600]} ms`);
});
