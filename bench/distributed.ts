/**
 * Distributed-mode benchmark: workflow steps dispatched over NATS JetStream to worker node processes, against the
 * same workflow in one process (`mode` default) measured in the same run.
 *
 * The bench starts its own nats-server (JetStream, loopback, a temporary store it removes), the scripted model server
 * (test/llm-server, a child process: every reply is a fenced program `result = context.weight * 2`) and worker node
 * processes (bench/lib/distributed-node.ts: a distributed Mesh with the AutoAgent `calculator`). The orchestrator is
 * a distributed Mesh in this process with no agents of its own; the in-process reference is an autonomous Mesh here
 * with the same agent. Every step has a task of its own (the registry never short-cuts a model call: each step is
 * cold), MAX_REPAIR_ATTEMPTS=0, LLM_MAX_RETRIES=0.
 *
 * 1. Throughput: a workflow of 100 independent steps (no dependencies), model replies held 50 ms, at the same
 *    concurrency in both modes (the workflow's and each node's WORKER_CONCURRENCY): on 4, then 2, then 1 worker
 *    processes, each run beside an in-process run (they take turns); steps/s and the ratio to in-process.
 * 2. Recovery: a one-step workflow whose model reply is held long; the node that takes it is SIGKILLed once its
 *    model call has begun; the time from the kill until the workflow has the step's result from another node, beside
 *    STEP_ACK_WAIT (the job comes back ack-wait after the dead node's last heartbeat, sent every third of it).
 *    Done twice (4 -> 3 -> 2 nodes).
 * 3. Added latency of a remote step: one-step workflows with replies at once, serial, in alternating rounds, three
 *    ways: on one worker process (distributed), on an agent of the orchestrator's own process (distributed: the same
 *    durable dispatch and KV state, no second process), and in one process in the default mode. The target
 *    (<= 2 ms) is on the first difference, what running the step in another process adds (the median of the
 *    differences of workflows run in the same round, in order, so the machine's drift cancels); the second,
 *    what distributed mode's durable dispatch and state cost over the default mode, is printed beside it.
 *
 * Usage: node --import tsx bench/distributed.ts [--dist-concurrency N] [--dist-runs N] [--dist-latency N]
 *        (needs `npm run build` first: the sandbox worker runs from dist/). Options it does not know are ignored.
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Mesh, resetCooldowns, type SettingsInput, type WorkflowResult, type WorkflowStep } from '../src/index.js';
import { type NatsServer, startNatsServer } from '../src/testing/index.js';
import type { ScriptedReply } from '../test/llm-server/server.js';
import { positiveInt } from './lib/args.js';
import { calculatorAgent, NODE_ROLE, type NodeLine } from './lib/distributed-node.js';
import type { Figure } from './lib/figures.js';
import { ModelServerProcess } from './lib/model-server.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, summarize, table } from './lib/stats.js';

const BENCH = 'distributed';
const STEPS = 100;
const MODEL_DELAY_MS = 50;
const ADDED_LATENCY_TARGET_MS = 2;
/**
 * STEP_ACK_WAIT of every mesh in the bench, seconds: what a killed node costs a step. Not much shorter: on a loaded
 * machine a node's event loop can stall for seconds, its heartbeat comes late and the step runs twice.
 */
const ACK_WAIT_S = 5;
const NODE_COUNTS = [4, 2, 1] as const;
const KILLS = 2;
/** The reply the killed node waits for: far beyond the ack wait, so only a redelivery ends the step. */
const HELD_REPLY_MS = 30_000;
const LATENCY_ROUNDS = 8;
const LATENCY_WARMUP = 10;
/** Replies scripted beyond one per step: a step delivered again (a late heartbeat) calls the model again. */
const SPARE_REPLIES = 50;
const NODE_SCRIPT = fileURLToPath(new URL('./lib/distributed-node.ts', import.meta.url));

const PROGRAM = 'result = context.weight * 2;';
const ANSWER = `This doubles the step's weight:\n\n\`\`\`javascript\n${PROGRAM}\n\`\`\`\n`;

export interface DistributedBenchOptions {
  /** Steps in flight: the workflow's concurrency, and each node's WORKER_CONCURRENCY. */
  concurrency: number;
  /** Timed throughput runs per node count (each beside an in-process run). */
  runs: number;
  /** Serial one-step workflows per latency round, per side. */
  latencyPerRound: number;
}

export function parseDistributedArgs(argv: readonly string[]): DistributedBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'dist-concurrency': { type: 'string' },
      'dist-runs': { type: 'string' },
      'dist-latency': { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
  });
  const value = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    concurrency: positiveInt('dist-concurrency', value('dist-concurrency'), 16),
    runs: positiveInt('dist-runs', value('dist-runs'), 3),
    latencyPerRound: positiveInt('dist-latency', value('dist-latency'), 10),
  };
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));
/** Progress on stderr, so a slow phase shows where it is. */
function progress(text: string): void {
  if (process.env.BENCH_VERBOSE) process.stderr.write(`[${BENCH} ${new Date().toISOString().slice(11, 23)}] ${text}\n`);
}

const wallClock = (): number => performance.timeOrigin + performance.now();

function reply(delayMs: number): ScriptedReply {
  return { kind: 'text', text: ANSWER, delayMs, inputTokens: 300, outputTokens: 40 };
}

/** Settings every mesh that runs the agent shares: the model server, no retries or repairs. */
function agentConfig(modelUrl: string, logDir: string, concurrency: number): SettingsInput {
  return {
    LLM_PROVIDER_ORDER: 'vllm',
    LLM_ENDPOINT: modelUrl,
    LLM_MODEL: 'bench-model',
    LLM_MAX_RETRIES: 0,
    LLM_TIMEOUT: 60,
    EXECUTION_TIMEOUT: 10,
    MAX_REPAIR_ATTEMPTS: 0,
    LOG_DIRECTORY: logDir,
    STEP_ACK_WAIT: ACK_WAIT_S,
    WORKER_CONCURRENCY: concurrency,
    WORKFLOW_CONCURRENCY: concurrency,
  };
}

// ---- worker node processes -----------------------------------------------------------------------------

class NodeProcess {
  models = 0;
  private readonly modelWaiters = new Set<(node: NodeProcess) => void>();
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    let onReady: () => void = () => undefined;
    let onFail: (err: Error) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => undefined); // awaited by the bench; a node dying later must not leave it unhandled
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        onFail(new Error(`worker node ${index} exited (${signal ?? code}) before it was ready: ${stderr.trim()}`));
        resolve();
      });
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      let line: NodeLine;
      try {
        line = JSON.parse(text) as NodeLine;
      } catch {
        return; // not one of ours (a library's log line)
      }
      if (line.event === 'ready') onReady();
      else if (line.event === 'model') {
        this.models++;
        for (const waiter of [...this.modelWaiters]) waiter(this);
      }
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with this node when its next model call begins. */
  onModel(listener: (node: NodeProcess) => void): () => void {
    this.modelWaiters.add(listener);
    return () => this.modelWaiters.delete(listener);
  }

  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

function spawnNode(index: number, config: SettingsInput): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT, String(index), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A node never outlives the bench, even one that ends on an uncaught error.
  const reap = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  return new NodeProcess(index, child);
}

// ---- workflows -----------------------------------------------------------------------------------------

let taskCounter = 0;

/** `count` independent steps, each with a task of its own (so no registry hit). */
/** The agent of the distributed orchestrator's own process (latency: a step that stays in the process). */
const HERE_ROLE = `${NODE_ROLE}-here`;

function independentSteps(count: number, label: string, agent = NODE_ROLE): WorkflowStep[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${String(i).padStart(3, '0')}`,
    agent,
    task: `[dist-bench ${label} #${++taskCounter}] Double the weight given in the context.`,
    context: { weight: i + 1 },
  }));
}

/** Problems with a run: a step that did not succeed with its doubled weight. */
function problemsOf(result: WorkflowResult, steps: readonly WorkflowStep[]): string[] {
  const problems: string[] = [];
  steps.forEach((step, i) => {
    const envelope = result[i];
    const want = ((step.context as { weight: number }).weight as number) * 2;
    if (!envelope) problems.push(`${step.id}: no envelope`);
    else if (envelope.status !== 'success')
      problems.push(`${step.id}: ${envelope.status} (${envelope.errorCategory}: ${envelope.error?.split('\n')[0]})`);
    else if (envelope.output !== want) problems.push(`${step.id}: output ${JSON.stringify(envelope.output)}`);
  });
  return problems;
}

let workflowCounter = 0;

async function timedWorkflow(mesh: Mesh, steps: WorkflowStep[], concurrency: number, problems: string[]) {
  const id = `dist-bench-${++workflowCounter}`;
  const started = performance.now();
  const result = await mesh.workflow(id, steps, { concurrency });
  const wallMs = performance.now() - started;
  problems.push(...problemsOf(result, steps).map((p) => `${id}: ${p}`));
  return wallMs;
}

// ---- the benchmark -------------------------------------------------------------------------------------

interface Throughput {
  nodes: number;
  remote: number[];
  local: number[];
  /** Model calls each node made over the timed runs. */
  shares: number[];
}

interface Recovery {
  recoveryMs: number;
  /** From the kill until another node's model call began. */
  redeliveredMs: number;
  status: string;
}

export async function runDistributedBenchmark(options: DistributedBenchOptions): Promise<Figure[]> {
  heading(
    `${BENCH}: ${STEPS}-step workflows on ${NODE_COUNTS.join('/')} worker processes over NATS JetStream vs one process; `
      + 'SIGKILLed node; remote step latency',
  );
  const benchStarted = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'automesh-bench-distributed-'));
  const dir = (name: string): string => {
    const path = join(root, name);
    mkdirSync(path);
    return path;
  };
  const problems: string[] = [];
  let nats: NatsServer | null = null;
  let server: ModelServerProcess | null = null;
  const nodes: NodeProcess[] = [];
  const meshes: Mesh[] = [];
  let cleaning: Promise<void> | null = null;
  const cleanUp = (stopMeshes = true): Promise<void> => {
    cleaning ??= (async () => {
      // Interrupted, the meshes are not stopped: a stop waits for the workflow in flight.
      if (stopMeshes) await Promise.allSettled(meshes.map((m) => m.stop()));
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      resetCooldowns();
      await server?.close();
      await nats?.stop();
      rmSync(root, { recursive: true, force: true });
    })();
    return cleaning;
  };
  // Interrupted (Ctrl-C, a timeout): no process and no temporary directory is left behind either.
  const interrupted = (signal: NodeJS.Signals): void => {
    void cleanUp(false).finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    [nats, server] = await Promise.all([startNatsServer(), ModelServerProcess.start()]);
    const natsUrl = nats.url;
    const model = server;
    const c = options.concurrency;
    for (let i = 0; i < Math.max(...NODE_COUNTS); i++) {
      const config = {
        ...agentConfig(model.url, dir(`node-${i}`), c),
        NATS_URL: natsUrl,
        NODE_NAME: `bench-node-${i}`,
      };
      nodes.push(spawnNode(i, config));
    }
    const local = new Mesh({ config: agentConfig(model.url, dir('local'), c) });
    local.add(calculatorAgent());
    const orchestrator = new Mesh({
      mode: 'distributed',
      config: {
        NATS_URL: natsUrl,
        NODE_NAME: 'bench-orchestrator',
        LOG_DIRECTORY: dir('orchestrator'),
        STEP_ACK_WAIT: ACK_WAIT_S,
      },
    });
    // Distributed too, on its own connection, serving the agent itself: a step that never leaves this process.
    const here = new Mesh({
      mode: 'distributed',
      config: {
        ...agentConfig(model.url, dir('here'), c),
        NATS_URL: natsUrl,
        NODE_NAME: 'bench-here',
        STEP_ACK_WAIT: ACK_WAIT_S,
      },
    });
    here.add(calculatorAgent(HERE_ROLE));
    meshes.push(local, orchestrator, here);
    const startedAt = performance.now();
    await Promise.all([...nodes.map((n) => n.ready), local.start(), orchestrator.start(), here.start()]);
    const startupMs = performance.now() - startedAt;
    await untilServed(orchestrator);
    progress(`${nodes.length} nodes, orchestrator and in-process mesh ready after ${ms(startupMs)}`);

    const script = async (replies: ScriptedReply[]): Promise<void> => {
      await model.reset();
      await model.script('vllm', replies);
    };
    const extraCalls = { local: 0, remote: 0 };
    const alive = (): NodeProcess[] => nodes.filter((n) => n.alive);
    const throughputRun = async (mesh: Mesh, label: string): Promise<number> => {
      await script(Array.from({ length: STEPS + SPARE_REPLIES }, () => reply(MODEL_DELAY_MS)));
      progress(`${label}: ${STEPS} steps`);
      const wall = await timedWorkflow(mesh, independentSteps(STEPS, label), c, problems);
      progress(`${label}: ${ms(wall)}`);
      const requests = (await model.requests('vllm')).length;
      if (requests < STEPS) problems.push(`${label}: ${requests} model calls for ${STEPS} steps`);
      extraCalls[mesh === local ? 'local' : 'remote'] += requests - STEPS;
      return STEPS / (wall / 1000);
    };

    // Warm-up: the first runs compile and open what later ones reuse, in every process.
    await throughputRun(local, 'warm-up local');
    await throughputRun(orchestrator, 'warm-up remote');

    const throughputs: Throughput[] = [];
    const recoveries: Recovery[] = [];
    for (const count of NODE_COUNTS) {
      // Down to `count` nodes: SIGKILLed mid-step while there are kills to make, then stopped cleanly.
      while (alive().length > count && recoveries.length < KILLS) {
        recoveries.push(await killMidStep(orchestrator, alive(), model, script, problems));
      }
      while (alive().length > count) await (alive().at(-1) as NodeProcess).kill('SIGTERM');
      const serving = alive();
      const before = serving.map((n) => n.models);
      const t: Throughput = { nodes: count, remote: [], local: [], shares: [] };
      for (let run = 0; run < options.runs; run++) {
        // Taking turns, and swapping who goes first, so the machine's noise hits both.
        if (run % 2 === 0) {
          t.remote.push(await throughputRun(orchestrator, `${count} nodes`));
          t.local.push(await throughputRun(local, 'in-process'));
        } else {
          t.local.push(await throughputRun(local, 'in-process'));
          t.remote.push(await throughputRun(orchestrator, `${count} nodes`));
        }
      }
      t.shares = serving.map((n, i) => n.models - (before[i] as number));
      throughputs.push(t);
    }

    // Latency: one step at a time, the reply at once; one worker process vs one process.
    const latency = await latencies({ remote: orchestrator, here, local }, options.latencyPerRound, script, problems);

    const figures = report({ throughputs, recoveries, latency, startupMs, options, problems, extraCalls });
    console.log(`\n${BENCH} benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${loadLine()}`);
    return figures;
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

/** Waits until the orchestrator's catalog lists the agent (a workflow naming it passes validation). */
async function untilServed(orchestrator: Mesh): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if ((await orchestrator.catalog()).some((entry) => entry.name === NODE_ROLE)) return;
    await sleep(20);
  }
  throw new Error(`the orchestrator's catalog did not list "${NODE_ROLE}" within 30 s of the nodes being ready`);
}

/** A one-step workflow whose node is SIGKILLed once its model call has begun: until the result from another node. */
async function killMidStep(
  orchestrator: Mesh,
  serving: readonly NodeProcess[],
  model: ModelServerProcess,
  script: (replies: ScriptedReply[]) => Promise<void>,
  problems: string[],
): Promise<Recovery> {
  await script([reply(HELD_REPLY_MS), reply(MODEL_DELAY_MS)]);
  const steps = independentSteps(1, 'kill');
  const firstModel = new Promise<NodeProcess>((resolve) => {
    const stops = serving.map((n) =>
      n.onModel((node) => {
        for (const stop of stops) stop();
        resolve(node);
      }),
    );
  });
  const run = orchestrator.workflow(`dist-bench-kill-${++workflowCounter}`, steps);
  run.catch(() => undefined); // awaited below
  const victim = await firstModel;
  // Killed once its request has reached the model server (which holds the reply), not while it is on its way.
  while ((await model.requests('vllm')).length === 0) await sleep(5);
  const others = serving.filter((n) => n !== victim);
  const rerun = new Promise<number>((resolve) => {
    const stops = others.map((n) =>
      n.onModel(() => {
        for (const stop of stops) stop();
        resolve(wallClock());
      }),
    );
  });
  const killedAt = wallClock();
  progress(`SIGKILL node ${victim.index}`);
  await victim.kill('SIGKILL');
  const result = await run;
  const doneAt = wallClock();
  problems.push(...problemsOf(result, steps).map((p) => `kill: ${p}`));
  return {
    recoveryMs: doneAt - killedAt,
    // The other node's line may come through its stdout a little after the result came over NATS.
    redeliveredMs: (await Promise.race([rerun, sleep(1_000).then(() => Number.NaN)])) - killedAt,
    status: result[0]?.status ?? 'none',
  };
}

interface Latency {
  /** On one worker process (distributed). */
  remote: ReturnType<typeof summarize>;
  /** On the orchestrator's own agent (distributed: same dispatch and state, one process). */
  here: ReturnType<typeof summarize>;
  /** In one process, default mode. */
  local: ReturnType<typeof summarize>;
  /**
   * What a remote step adds, paired: the median of remote - here over the workflows of one round taken in order (the
   * i-th of each side's block), so drift in the machine's load over the rounds cancels; the difference of the two
   * medians (each of ~80 noisy workflows of ~28 ms) moves by a millisecond from run to run.
   */
  addedPaired: number;
}

type Side = 'remote' | 'here' | 'local';

async function latencies(
  meshes: Record<Side, Mesh>,
  perRound: number,
  script: (replies: ScriptedReply[]) => Promise<void>,
  problems: string[],
): Promise<Latency> {
  const sides: Side[] = ['remote', 'here', 'local'];
  const total = sides.length * (LATENCY_WARMUP + LATENCY_ROUNDS * perRound);
  await script(Array.from({ length: total }, () => reply(0)));
  const agentOf = (side: Side): string => (side === 'here' ? HERE_ROLE : NODE_ROLE);
  const serial = async (side: Side, n: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      times.push(await timedWorkflow(meshes[side], independentSteps(1, 'latency', agentOf(side)), 1, problems));
    }
    return times;
  };
  progress('latency');
  for (const side of sides) await serial(side, LATENCY_WARMUP);
  const times: Record<Side, number[]> = { remote: [], here: [], local: [] };
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    // Each round in another order, so the machine's noise hits every side.
    const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
    for (const side of order) times[side].push(...(await serial(side, perRound)));
  }
  const paired = times.remote.map((t, i) => t - (times.here[i] as number));
  return {
    remote: summarize(times.remote),
    here: summarize(times.here),
    local: summarize(times.local),
    addedPaired: summarize(paired).median,
  };
}

/** What the figures would be with the nodes, nats-server and orchestrator on separate machines, and why. */
const SEPARATE_MACHINES = [
  'On separate machines: one remote step waits on these trips to nats-server, in order: the orchestrator reads and',
  'writes the dispatch record (KV get, KV put) and enqueues the job (JetStream publish, stored and acknowledged);',
  'the server delivers it to a waiting pull (one way); the node checks for an earlier result (KV get), runs the step',
  '(its registry entry is a KV put), writes the result record (KV put) and publishes the done notice (node -> server',
  '-> orchestrator, one way each; its ack to the queue goes off the critical path); the orchestrator marks the',
  'dispatch record taken (KV compare-and-set); the workflow state adds KV puts as in one process. About 9 round',
  'trips per step: here each costs ~0.1 ms plus the time to schedule two processes; on a LAN (0.2-0.5 ms RTT)',
  'a remote step adds ~2-5 ms, across zones (1-2 ms) ~10-20 ms, and a replicated stream (R3) adds a quorum round',
  'trip to each JetStream write. Throughput: here every node shares the same 2 cores, so a node adds work, not',
  'capacity; on separate machines each node brings its own cores, and with 50 ms replies the steps in flight',
  '(workflow concurrency) bound it: 100 steps at concurrency 16 cannot beat 7 waves of 50 ms, however many nodes.',
].join('\n');

interface ReportInput {
  throughputs: Throughput[];
  recoveries: Recovery[];
  latency: Latency;
  startupMs: number;
  /** Model calls beyond one per step over the throughput runs (warm-ups included), by side. */
  extraCalls: { local: number; remote: number };
  options: DistributedBenchOptions;
  problems: string[];
}

function report(input: ReportInput): Figure[] {
  const { throughputs, recoveries, latency, options, problems } = input;
  const c = options.concurrency;
  const median = (values: number[]): number => summarize(values).median;
  const figures: Figure[] = [];
  const add = (name: string, value: string, target = '-', met: boolean | null = null): void => {
    figures.push({ benchmark: BENCH, name, value, target, met });
  };
  const boundRate = STEPS / ((Math.ceil(STEPS / c) * MODEL_DELAY_MS) / 1000);
  console.log(
    `\n${STEPS} independent steps (no dependencies), replies held ${MODEL_DELAY_MS} ms, concurrency ${c} (workflow and `
      + `each node's WORKER_CONCURRENCY); bound ${boundRate.toFixed(0)} steps/s (${Math.ceil(STEPS / c)} waves of `
      + `${MODEL_DELAY_MS} ms). Steps/s, ${options.runs} runs each, the two sides taking turns:`,
  );
  console.log(
    table(
      ['worker processes', 'distributed steps/s', 'in-process steps/s', 'ratio (medians)', 'model calls per node'],
      throughputs.map((t) => [
        String(t.nodes),
        `${median(t.remote).toFixed(0)} (${t.remote.map((r) => r.toFixed(0)).join(', ')})`,
        `${median(t.local).toFixed(0)} (${t.local.map((r) => r.toFixed(0)).join(', ')})`,
        `${(median(t.remote) / median(t.local)).toFixed(2)}x`,
        t.shares.join(' / '),
      ]),
    ),
  );
  for (const t of throughputs) {
    add(
      `${STEPS} steps, ${t.nodes} worker process${t.nodes === 1 ? '' : 'es'}: steps/s (ratio to in-process)`,
      `${median(t.remote).toFixed(0)} (${(median(t.remote) / median(t.local)).toFixed(2)}x of ${median(t.local).toFixed(0)})`,
    );
  }

  const added = latency.addedPaired;
  const medians = latency.remote.median - latency.here.median;
  const durable = latency.here.median - latency.local.median;
  console.log(
    `\none-step workflow, reply at once, serial (${LATENCY_ROUNDS} rounds of ${options.latencyPerRound}, sides taking turns):`,
  );
  console.log(
    table(
      ['where the agent runs', 'median', 'p95', 'mean', 'min'],
      (
        [
          ['another process (distributed, 1 worker node)', latency.remote],
          ["the orchestrator's process (distributed)", latency.here],
          ['this process (default mode, SQLite state)', latency.local],
        ] as const
      ).map(([name, sum]) => [name, ms(sum.median), ms(sum.p95), ms(sum.mean), ms(sum.min)]),
    ),
  );
  console.log(
    `added latency of a remote step over a step in the orchestrator's process: paired median ${ms(added)} `
      + `(difference of the medians ${ms(medians)}), p95 `
      + `${ms(latency.remote.p95 - latency.here.p95)} (target <= ${ADDED_LATENCY_TARGET_MS} ms: `
      + `${added <= ADDED_LATENCY_TARGET_MS ? 'met' : 'MISSED'}); distributed mode's durable dispatch and KV state `
      + `over the default mode: median ${ms(durable)}`,
  );
  add(
    "added latency of a remote step (paired median, 1 worker node vs the orchestrator's own agent, both distributed)",
    `${ms(added)} (medians: remote ${ms(latency.remote.median)}, same process ${ms(latency.here.median)})`,
    `<= ${ADDED_LATENCY_TARGET_MS} ms`,
    added <= ADDED_LATENCY_TARGET_MS,
  );
  add('added latency of a remote step, p95 difference', ms(latency.remote.p95 - latency.here.p95));
  add(
    "distributed mode's dispatch and state over the default mode (medians, both in one process)",
    `${ms(durable)} (distributed ${ms(latency.here.median)}, default ${ms(latency.local.median)})`,
  );

  const stepMs = latency.remote.median + MODEL_DELAY_MS;
  console.log(
    `\nworker SIGKILLed mid-step (STEP_ACK_WAIT ${ACK_WAIT_S} s, heartbeats every ${ms((ACK_WAIT_S * 1000) / 3)}): `
      + `step result ${recoveries.map((r) => ms(r.recoveryMs)).join(', ')} after the kill (${recoveries
        .map((r) => r.status)
        .join(', ')}); another node began it ${recoveries.map((r) => ms(r.redeliveredMs)).join(', ')} after the kill. `
      + `Expected: ${ms((ACK_WAIT_S * 1000 * 2) / 3)}-${ms(ACK_WAIT_S * 1000)} (ack wait since the last heartbeat) + a `
      + `step (~${ms(stepMs)}).`,
  );
  const recovery = summarize(recoveries.map((r) => r.recoveryMs));
  add(
    `SIGKILLed worker: step done on another node, median of ${recoveries.length}`,
    `${ms(recovery.median)} (max ${ms(recovery.max)})`,
    `~ STEP_ACK_WAIT ${ACK_WAIT_S} s + a step (${ms(stepMs)})`,
  );
  add('worker processes + orchestrator + in-process mesh ready (start)', ms(input.startupMs));
  add(
    'steps run twice in the throughput runs (distributed / in-process)',
    `${input.extraCalls.remote} / ${input.extraCalls.local}`,
  );
  console.log(`\n${SEPARATE_MACHINES}`);
  if (problems.length > 0) {
    console.log(`\nVERIFICATION FAILED (${problems.length} problems):`);
    for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  }
  add(
    'steps verified (success, doubled weight)',
    problems.length === 0 ? 'all' : 'NOT ALL',
    'all',
    problems.length === 0,
  );
  return figures;
}

await runIfMain(import.meta.url, BENCH, (argv) => runDistributedBenchmark(parseDistributedArgs(argv)));
