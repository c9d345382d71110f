// Distributed mode under faults, with real processes (test/fixtures/distributed-node.ts) on a real nats-server:
// a worker node SIGKILLed mid-step, the orchestrator SIGKILLed mid-workflow and run again, nats-server restarted
// mid-workflow, two orchestrators with one workflow id, a node joining mid-workflow, three nodes sharing the code
// registry under load, and a step that crashes its node on every delivery. The model is the test's LLM server,
// which counts every call.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Envelope, Mesh, type WorkflowStep } from '../src/index.js';
import { MemoryResultStore, openBusStorage } from '../src/storage/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { connectNats } from '../src/transport/nats/index.js';
import { type StartedScript, startScript } from './helpers/run-script.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer, type ReceivedRequest } from './llm-server/server.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'distributed-node.ts');

let llm: LlmServer;
let nats: NatsServer | null = null;
const processes: StartedScript[] = [];
const meshes: Mesh[] = [];

/** The settings every process of a test shares: short ack wait and lease, so faults are noticed in about a second. */
function settings(): Record<string, string> {
  if (!nats) throw new Error('the nats-server runs only inside a test');
  return {
    NATS_URL: nats.url,
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: llm.url,
    LLM_MODEL: 'qwen2.5-coder-32b-instruct',
    LLM_MAX_RETRIES: '0',
    LLM_TIMEOUT: '30',
    MAX_REPAIR_ATTEMPTS: '0',
    EXECUTION_TIMEOUT: '5',
    SANDBOX_WORKERS: '1',
    STEP_ACK_WAIT: '2',
    STEP_MAX_DELIVER: '2',
    WORKFLOW_LEASE_TTL: '1',
  };
}

interface NodeProcess extends StartedScript {
  name: string;
  /** The agentId of this process's agent of `role`: envelopes name it, so it tells where a step ran. */
  agentId(role: string): string;
  /** How many times a step with this id started here. */
  started(stepId: string): number;
}

/** A node process, started: it is on the mesh once it printed `ready <name>`. */
function spawnNode(name: string, env: Record<string, string | undefined>): StartedScript {
  const script = startScript(fixture, {
    env: { ...process.env, ...settings(), NODE_NAME: name, LOG_DIRECTORY: tempDir('distributed-faults'), ...env },
  });
  processes.push(script);
  return script;
}

/** A node process; resolves once it is on the mesh (or, for an orchestrator, once it started its workflow). */
async function startNode(
  name: string,
  env: { ROLES?: string; WORKFLOW?: string; [key: string]: string | undefined },
): Promise<NodeProcess> {
  const script = spawnNode(name, env);
  const ended = (): boolean => script.child.exitCode !== null || script.child.signalCode !== null;
  await waitFor(() => script.out().includes(`ready ${name}`) || ended(), `node ${name}`, 60_000);
  if (!script.out().includes(`ready ${name}`)) {
    throw new Error(`node ${name} ended (${script.child.exitCode ?? script.child.signalCode}): ${script.err()}`);
  }
  return {
    ...script,
    name,
    agentId(role) {
      const id = new RegExp(`^agent ${role} (\\S+)$`, 'm').exec(script.out())?.[1];
      assert.ok(id, `node ${name} has no agent ${role}`);
      return id;
    },
    started: (stepId) =>
      script
        .err()
        .split('\n')
        .filter((line) => line === `step ${stepId}`).length,
  };
}

/** What an orchestrator process printed at its end: its envelopes, or why the workflow was refused. */
async function outcome(node: NodeProcess): Promise<{ envelopes?: Envelope[]; refused?: { code?: string } }> {
  await node.exited;
  const line = node
    .out()
    .split('\n')
    .find((l) => l.startsWith('envelopes ') || l.startsWith('refused '));
  assert.ok(line, `orchestrator ${node.name} printed no outcome: ${node.err()}`);
  const [kind, ...rest] = line.split(' ');
  return { [kind as string]: JSON.parse(rest.join(' ')) };
}

const workflow = (id: string, steps: WorkflowStep[], options: Record<string, unknown> = {}): string =>
  JSON.stringify({ id, steps, options });

/** An orchestrator in the test process, with no agents of its own. */
async function orchestrator(): Promise<Mesh> {
  const mesh = new Mesh({
    mode: 'distributed',
    config: { ...settings(), NODE_NAME: 'orchestrator', LOG_DIRECTORY: tempDir('distributed-faults') },
  });
  meshes.push(mesh);
  await mesh.start();
  return mesh;
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const taskOf = (req: ReceivedRequest): string =>
  /Task: (.*)/.exec(req.messages.map((m) => m.content).join('\n'))?.[1] ?? '';
const tasksAsked = (): string[] => llm.requests('vllm').map(taskOf);
const asked = (task: string): number => tasksAsked().filter((t) => t === task).length;

/** The model's answer: code that stores `value`, after `delayMs`. */
function reply(code: string, delayMs = 0) {
  return {
    kind: 'text' as const,
    delayMs,
    text: `Here is the program.\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nIt stores the answer in \`result\`.`,
  };
}

/** Answers every task with its own text as the result; `slow` tasks take that long on their first call. */
function answerTasks(slow: Record<string, number> = {}): void {
  llm.respond('vllm', (req) => {
    const task = taskOf(req);
    const delay = asked(task) === 1 ? (slow[task] ?? 0) : 0;
    return reply(`const result: string = ${JSON.stringify(`done: ${task}`)};`, delay);
  });
}

const summary = (envelopes: Envelope[]) => envelopes.map((e) => [e.stepId, e.status, e.output]);

describe('distributed mode under faults (real processes, real nats-server)', {
  skip: !natsServerAvailable() && NATS_MISSING,
}, () => {
  before(async () => {
    llm = await LlmServer.start();
  });
  after(() => llm.close());
  beforeEach(async () => {
    llm.reset();
    nats = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.allSettled(meshes.splice(0).map((mesh) => mesh.stop()));
    for (const { child, exited } of processes.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    await nats?.stop();
    nats = null;
  });

  test('a worker node SIGKILLed mid-step: the step completes on the other node, the model asked again only for it', async () => {
    answerTasks({ 'Research tides': 10_000 });
    const a = await startNode('a', { ROLES: 'researcher' });
    const b = await startNode('b', { ROLES: 'researcher' });
    const mesh = await orchestrator();
    const run = mesh.workflow('killed-worker', [
      { id: 'winds', agent: 'researcher', task: 'Research winds' },
      { id: 'tides', agent: 'researcher', task: 'Research tides', dependsOn: ['winds'] },
    ]);
    await waitFor(() => asked('Research tides') === 1, 'the tides step to reach the model');
    const [victim, survivor] = a.started('tides') === 1 ? [a, b] : [b, a];
    assert.equal(victim.started('tides'), 1);
    victim.child.kill('SIGKILL');
    const results = await run;
    assert.deepEqual(summary(results), [
      ['winds', 'success', 'done: Research winds'],
      ['tides', 'success', 'done: Research tides'],
    ]);
    assert.equal(results[1]?.agentId, survivor.agentId('researcher'), "the surviving node's process ran it");
    assert.equal(survivor.started('tides'), 1);
    assert.deepEqual(tasksAsked(), ['Research winds', 'Research tides', 'Research tides']);
  });

  test('the orchestrator SIGKILLed mid-workflow and run again: finished steps recovered, the step in flight adopted, no repeated model call', async () => {
    answerTasks({ 'Step three': 3_000 });
    const worker = await startNode('worker', { ROLES: 'researcher' });
    const steps: WorkflowStep[] = [
      { id: 'one', agent: 'researcher', task: 'Step one' },
      { id: 'two', agent: 'researcher', task: 'Step two', dependsOn: ['one'] },
      { id: 'three', agent: 'researcher', task: 'Step three', dependsOn: ['two'] },
    ];
    const first = await startNode('orchestrator-1', { WORKFLOW: workflow('resumed', steps) });
    await waitFor(() => asked('Step three') === 1, 'the third step to reach the model');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await startNode('orchestrator-2', { WORKFLOW: workflow('resumed', steps, { wait: true }) });
    const { envelopes } = await outcome(second);
    assert.ok(envelopes, second.out());
    assert.deepEqual(
      envelopes.map((e) => [e.stepId, e.status, e.output, e.recovered ?? false]),
      [
        ['one', 'success', 'done: Step one', true],
        ['two', 'success', 'done: Step two', true],
        ['three', 'success', 'done: Step three', false],
      ],
    );
    assert.equal(worker.started('three'), 1, 'the step in flight was adopted, not run again');
    assert.deepEqual(tasksAsked(), ['Step one', 'Step two', 'Step three'], 'no repeated model call');
  });

  test('nats-server stopped and restarted (store kept) mid-workflow: the workflow completes', async () => {
    answerTasks({ 'Step two': 1_500 });
    await startNode('worker', { ROLES: 'researcher' });
    const mesh = await orchestrator();
    const run = mesh.workflow('broker-restart', [
      { id: 'one', agent: 'researcher', task: 'Step one' },
      { id: 'two', agent: 'researcher', task: 'Step two', dependsOn: ['one'] },
      { id: 'three', agent: 'researcher', task: 'Step three', dependsOn: ['two'] },
    ]);
    await waitFor(() => asked('Step two') === 1, 'the second step to reach the model');
    await nats?.restart();
    const results = await run;
    assert.deepEqual(summary(results), [
      ['one', 'success', 'done: Step one'],
      ['two', 'success', 'done: Step two'],
      ['three', 'success', 'done: Step three'],
    ]);
    assert.deepEqual(tasksAsked(), ['Step one', 'Step two', 'Step three'], 'each step asked the model once');
  });

  test('two orchestrators start one workflow id at once: it runs once', async () => {
    await startNode('worker', { ROLES: 'researcher' });
    for (const wait of [false, true]) {
      llm.reset();
      // Tasks of their own per round: the second round must not find the first round's code in the registry.
      const tasks = ['one', 'two', 'three'].map((n) => `Step ${n} (wait: ${wait})`);
      answerTasks(Object.fromEntries(tasks.map((task) => [task, 500])));
      const steps: WorkflowStep[] = tasks.map((task, i) => ({
        id: `s${i}`,
        agent: 'researcher',
        task,
        dependsOn: i === 0 ? [] : [`s${i - 1}`],
      }));
      const id = `twice-${wait}`;
      // Both processes begin the workflow at the same moment, whenever each finished starting.
      const START_AT = String(Date.now() + 5_000);
      const runs = await Promise.all(
        ['x', 'y'].map((n) => startNode(`orchestrator-${n}`, { WORKFLOW: workflow(id, steps, { wait }), START_AT })),
      );
      const outcomes = await Promise.all(runs.map(outcome));
      const ran = outcomes.filter((o) => o.envelopes?.every((e) => e.status === 'success' && !e.recovered));
      assert.equal(ran.length, 1, JSON.stringify(outcomes));
      const other = outcomes.find((o) => !ran.includes(o));
      if (wait) {
        assert.deepEqual(
          other?.envelopes?.map((e) => [e.stepId, e.status, e.recovered]),
          [
            ['s0', 'success', true],
            ['s1', 'success', true],
            ['s2', 'success', true],
          ],
        );
      } else {
        assert.equal(other?.refused?.code, 'locked', JSON.stringify(other));
      }
      assert.deepEqual(tasksAsked(), tasks, 'one model call per step');
    }
  });

  test('a node that joins mid-workflow takes work', async () => {
    // The first node's first model call is answered only once the second node asked too: the second node joined
    // while the workflow was running, and took a step of it.
    let joined: () => void = () => undefined;
    const secondAsked = new Promise<void>((resolve) => {
      joined = resolve;
    });
    llm.respond('vllm', async (req) => {
      if (llm.requests('vllm').length >= 2) joined();
      else await secondAsked;
      return reply(`const result: string = ${JSON.stringify(`done: ${taskOf(req)}`)};`, 200);
    });
    const first = await startNode('first', { ROLES: 'researcher', WORKER_CONCURRENCY: '1' });
    const mesh = await orchestrator();
    const run = mesh.workflow(
      'joined',
      Array.from({ length: 8 }, (_, i) => ({ id: `t${i}`, agent: 'researcher', task: `Research topic ${i}` })),
      { concurrency: 8 },
    );
    await waitFor(() => llm.requests('vllm').length === 1, 'the first step to reach the model');
    const second = await startNode('second', { ROLES: 'researcher', WORKER_CONCURRENCY: '1' });
    const results = await run;
    assert.ok(
      results.every((r) => r.status === 'success'),
      JSON.stringify(results.map((r) => r.error)),
    );
    const ranBy = (node: NodeProcess): number => results.filter((r) => r.agentId === node.agentId('researcher')).length;
    assert.ok(ranBy(first) >= 1 && ranBy(second) >= 1, `first ran ${ranBy(first)}, second ${ranBy(second)}`);
    assert.equal(ranBy(first) + ranBy(second), 8);
    assert.equal(llm.requests('vllm').length, 8);
  });

  test('three nodes share the code registry under load: its success count is exact afterwards', async () => {
    llm.respond('vllm', () => reply('const result: number = [1, 2, 3].reduce((a, b) => a + b, 0);', 300));
    const nodes = await Promise.all(
      ['n1', 'n2', 'n3'].map((n) => startNode(n, { ROLES: 'researcher', WORKER_CONCURRENCY: '2' })),
    );
    const mesh = await orchestrator();
    const count = 30;
    const results = await mesh.workflow(
      'shared-registry',
      Array.from({ length: count }, (_, i) => ({ id: `s${i}`, agent: 'researcher', task: 'Sum 1, 2 and 3' })),
      { concurrency: count },
    );
    assert.deepEqual(new Set(results.map((r) => [r.status, r.output].join())), new Set(['success,6']));
    const functionIds = new Set(results.map((r) => r.functionId));
    assert.equal(functionIds.size, 1, 'one function for the task');
    const [functionId] = functionIds;
    const nodesUsed = new Set(results.map((r) => r.agentId));
    for (const node of nodes) {
      assert.ok(nodesUsed.has(node.agentId('researcher')), `node ${node.name} ran no step`);
    }
    const bus = await connectNats({ settings: { NATS_URL: nats?.url ?? '' }, connectTimeoutMs: 5_000 });
    const storage = await openBusStorage({ bus, results: new MemoryResultStore(), onClose: () => bus.close() });
    try {
      // At least once: a step whose heartbeats were late under load may also run on a second node, and that run
      // counts too. Every run the nodes made is counted, none lost. A node counts a run in the registry beside
      // sending its result, so the last counts may land just after the workflow has its results: wait for them.
      const runs = nodes.reduce((sum, node) => sum + results.reduce((n, r) => n + node.started(r.stepId), 0), 0);
      assert.ok(runs >= count, `${runs} runs`);
      const counted = async () => (await storage.registry.get(functionId ?? ''))?.successCount ?? 0;
      const deadline = Date.now() + 10_000;
      while ((await counted()) < runs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((resolve) => setTimeout(resolve, 200)); // a count beyond the runs would show up here
      const entry = await storage.registry.get(functionId ?? '');
      assert.ok(entry, 'the function is in the shared registry');
      assert.equal(entry.successCount, runs, 'every execution counted, none lost');
      assert.equal(entry.failureCount, 0);
    } finally {
      await storage.close();
    }
    assert.ok(llm.requests('vllm').length < count, 'the registry spared model calls');
  });

  test('a step that crashes its node on every delivery fails as crashed after STEP_MAX_DELIVER; independent steps go on', async () => {
    llm.respond('vllm', (req) => {
      const task = taskOf(req);
      if (task === 'Crash the node') return reply('await proc.die();\nconst result: number = 1;');
      return reply(`const result: string = ${JSON.stringify(`done: ${task}`)};`);
    });
    await startNode('writer', { ROLES: 'writer' });
    // The crashing role's node is started again whenever the step kills it, as a supervisor would.
    let supervising = true;
    let crashes = 0;
    // One job at a time: a node with idle takers leaves pull requests behind when it dies, and a delivery the server
    // makes to one of those counts against STEP_MAX_DELIVER without running anywhere (see the report of issue 15).
    const crasher = { ROLES: 'crasher', WORKER_CONCURRENCY: '1' };
    let node: StartedScript = await startNode('crasher-0', crasher);
    const supervise = async (): Promise<void> => {
      while (supervising) {
        await node.exited;
        if (node.child.signalCode === 'SIGKILL') crashes++;
        // Not waiting for `ready`: the job may reach it (and it may crash) before it says so.
        if (supervising) node = spawnNode(`crasher-${crashes}`, crasher);
      }
    };
    const supervisor = supervise();
    const mesh = await orchestrator();
    try {
      const results = await mesh.workflow('crashing', [
        { id: 'boom', agent: 'crasher', task: 'Crash the node' },
        { id: 'after-boom', agent: 'writer', task: 'Write after the crash', dependsOn: ['boom'] },
        { id: 'note', agent: 'writer', task: 'Write a note' },
        { id: 'summary', agent: 'writer', task: 'Write a summary', dependsOn: ['note'] },
      ]);
      assert.deepEqual(
        results.map((r) => [r.stepId, r.status, r.errorCategory]),
        [
          ['boom', 'failure', 'crashed'],
          ['after-boom', 'skipped', 'dependency'],
          ['note', 'success', null],
          ['summary', 'success', null],
        ],
      );
      assert.match(results[0]?.error ?? '', /delivered 2 times .*killed, or crashed by the step.*STEP_MAX_DELIVER/);
      assert.equal(crashes, 2, 'the step crashed its node on each of its deliveries');
      assert.equal(asked('Crash the node'), 2);
    } finally {
      supervising = false;
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await supervisor.catch(() => undefined);
    }
  });
});
