/**
 * Engine overhead benchmark: what automesh itself adds to a task, beside the floor of what the task cannot avoid.
 *
 * A Mesh on the default store (the embedded database in a fresh LOG_DIRECTORY) runs distinct tasks serially
 * against the local wire-protocol server (test/llm-server, in this process) answering at once, through the
 * official openai SDK over HTTP. Each reply is what a model writes: a sentence, the program in a fenced block, a
 * sentence. Middleware (the public `middleware` option) times the model call and the sandbox execution of each
 * task, so:
 *
 *   engine overhead = executeTask wall - model call - sandbox execution
 *
 * is the time spent in automesh's own code: prompt, extraction, compile, registry, result log, envelope.
 * The floor is measured in the same run, interleaved with the tasks: one SDK call to the same server with the
 * same reply, plus one execution of the same code on the same executor; the ratio is task wall / floor.
 *
 * Then the registry-hit path (REGISTRY_REUSE=true, every task registered by a first pass, run again: no model
 * call): its wall minus the execution. And `mesh.start()` on a fresh process-level state, and the first task
 * after it.
 *
 * Usage: node --import tsx bench/overhead.ts [--overhead-tasks N]   (needs `npm run build` first)
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import {
  type CodeExecutor,
  defineAgent,
  type ExecutorMiddleware,
  Mesh,
  type ModelMiddleware,
  resetCooldowns,
  type SettingsInput,
} from '../src/index.js';
import { LlmServer } from '../test/llm-server/server.js';
import { positiveInt } from './lib/args.js';
import type { Figure } from './lib/figures.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, type Summary, summarize, table } from './lib/stats.js';

const BENCH = 'overhead';
const OVERHEAD_MEDIAN_TARGET_MS = 1.2;
const OVERHEAD_P95_TARGET_MS = 2.5;
const HIT_MEDIAN_TARGET_MS = 0.8;
const WARMUP = 20;
const ROLE = 'counter';
const MODEL = 'bench-model';

export interface OverheadBenchOptions {
  /** Timed tasks (after the warm-up). */
  tasks: number;
}

export function parseOverheadArgs(argv: readonly string[]): OverheadBenchOptions {
  const { values } = parseArgs({ args: [...argv], options: { 'overhead-tasks': { type: 'string' } }, strict: false });
  const tasks = values['overhead-tasks'];
  return { tasks: positiveInt('overhead-tasks', typeof tasks === 'string' ? tasks : undefined, 300) };
}

/** The program of task `i`: plain data out, a few lines like a model writes for a small task. */
function program(i: number): string {
  return `const values = [${i}, ${i + 1}, ${i + 2}];\nconst total = values.reduce((sum, v) => sum + v, 0);\nresult = { total, count: values.length };`;
}

function reply(i: number): string {
  return (
    `Here is the code; it sums the three values and stores the total in \`result\`:\n\n\`\`\`javascript\n${program(i)}\n\`\`\`\n\n`
    + 'This sets `result` to an object with the total and the count.'
  );
}

function task(i: number): string {
  return `Sum the values ${i}, ${i + 1} and ${i + 2} (task ${i}) and report the total and how many there were.`;
}

/** Per-task time inside the model call and inside the sandbox, filled by the middleware below. */
class Clock {
  model = 0;
  execute = 0;
  modelCalls = 0;
  /** The mesh's own executor, as the middleware sees it: the floor runs its code on it, with no middleware. */
  executor: CodeExecutor | null = null;

  reset(): void {
    this.model = 0;
    this.execute = 0;
  }

  middleware(): { model: ModelMiddleware[]; executor: ExecutorMiddleware[] } {
    return {
      model: [
        {
          wrapGenerate: async ({ doGenerate }) => {
            const started = performance.now();
            try {
              return await doGenerate();
            } finally {
              this.model += performance.now() - started;
              this.modelCalls += 1;
            }
          },
        },
      ],
      executor: [
        {
          wrapExecute: async ({ doExecute, executor }) => {
            this.executor = executor;
            const started = performance.now();
            try {
              return await doExecute();
            } finally {
              this.execute += performance.now() - started;
            }
          },
        },
      ],
    };
  }
}

interface Row {
  wall: number;
  model: number;
  execute: number;
  overhead: number;
  floor: number;
}

function config(server: LlmServer, logDir: string, reuse: boolean): SettingsInput {
  return {
    LLM_ENDPOINT: server.openaiBaseUrl,
    LLM_MODEL: MODEL,
    LLM_PROVIDER_ORDER: 'vllm',
    LOG_DIRECTORY: logDir,
    REGISTRY_REUSE: reuse,
    MAX_REPAIR_ATTEMPTS: 0,
    LLM_MAX_RETRIES: 0,
  } as SettingsInput;
}

async function startMesh(
  server: LlmServer,
  logDir: string,
  clock: Clock,
  reuse: boolean,
): Promise<{ mesh: Mesh; startMs: number }> {
  const mesh = new Mesh({ config: config(server, logDir, reuse), middleware: clock.middleware() });
  mesh.add(
    defineAgent({
      role: ROLE,
      capabilities: ['math'],
      systemPrompt: 'You write JavaScript. Store the answer in `result`.',
    }),
  );
  const started = performance.now();
  await mesh.start();
  return { mesh, startMs: performance.now() - started };
}

async function runTask(
  server: LlmServer,
  mesh: Mesh,
  clock: Clock,
  i: number,
  expectCached: boolean,
): Promise<Omit<Row, 'floor'>> {
  const agent = mesh.getAgent(ROLE);
  if (!agent) throw new Error(`agent ${ROLE} missing`);
  if (!expectCached) server.script('vllm', { kind: 'text', text: reply(i) });
  clock.reset();
  const started = performance.now();
  const envelope = await agent.executeTask({ task: task(i) });
  const wall = performance.now() - started;
  const expected = { total: 3 * i + 3, count: 3 };
  if (envelope.status !== 'success' || JSON.stringify(envelope.output) !== JSON.stringify(expected)) {
    throw new Error(
      `task ${i} did not give ${JSON.stringify(expected)}: ${envelope.status} ${envelope.error ?? JSON.stringify(envelope.output)}`,
    );
  }
  if (envelope.cached !== expectCached)
    throw new Error(`task ${i}: cached ${envelope.cached}, expected ${expectCached}`);
  return { wall, model: clock.model, execute: clock.execute, overhead: wall - clock.model - clock.execute };
}

/** One SDK call to the same server with the same reply, and one execution of the same code: the floor of a task. */
async function floorOnce(client: OpenAI, server: LlmServer, clock: Clock, i: number): Promise<number> {
  server.script('vllm', { kind: 'text', text: reply(i) });
  const executor = clock.executor;
  if (!executor) throw new Error('the executor middleware saw no execution');
  const started = performance.now();
  await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: task(i) }],
    max_tokens: 4096,
  });
  const outcome = await executor.execute({ code: program(i), context: {} });
  const took = performance.now() - started;
  if (outcome.status !== 'success') throw new Error(`floor execution ${i} failed: ${outcome.error}`);
  return took;
}

function rowsTable(label: string, rows: Row[], withFloor: boolean): string {
  const line = (name: string, s: Summary): string[] => [name, ms(s.median), ms(s.p95), ms(s.mean)];
  const body = [
    line(`${label}: executeTask wall`, summarize(rows.map((r) => r.wall))),
    line('  model call (SDK over HTTP)', summarize(rows.map((r) => r.model))),
    line('  sandbox execution', summarize(rows.map((r) => r.execute))),
    line('  engine overhead (the rest)', summarize(rows.map((r) => r.overhead))),
    ...(withFloor ? [line('floor: SDK call + execution', summarize(rows.map((r) => r.floor)))] : []),
  ];
  return table(['part', 'median', 'p95', 'mean'], body);
}

export async function runOverheadBenchmark(options: OverheadBenchOptions): Promise<Figure[]> {
  heading(`${BENCH}: engine overhead per task, ${options.tasks} distinct tasks, serial, instant model`);
  const server = await LlmServer.start();
  const logDir = mkdtempSync(join(tmpdir(), 'automesh-bench-overhead-'));
  const clock = new Clock();
  const client = new OpenAI({ apiKey: 'not-used', baseURL: server.openaiBaseUrl, maxRetries: 0 });
  const figures: Figure[] = [];
  const benchStarted = performance.now();
  try {
    resetCooldowns();
    const total = WARMUP + options.tasks;
    const { mesh, startMs } = await startMesh(server, logDir, clock, false);
    const first = await runTask(server, mesh, clock, 0, false);
    const generated: Row[] = [];
    for (let i = 1; i < total; i++) {
      const row = await runTask(server, mesh, clock, i, false);
      const floor = await floorOnce(client, server, clock, i);
      if (i >= WARMUP) generated.push({ ...row, floor });
    }
    await mesh.stop();

    // The registry-hit path: a mesh with reuse on, on the same database; every task above was registered.
    const hitClock = new Clock();
    const reuse = await startMesh(server, logDir, hitClock, true);
    const hits: Row[] = [];
    for (let i = 1; i < total; i++) {
      const row = await runTask(server, reuse.mesh, hitClock, i, true);
      if (i >= WARMUP) hits.push({ ...row, floor: 0 });
    }
    await reuse.mesh.stop();
    if (hitClock.modelCalls !== 0) throw new Error(`registry hits made ${hitClock.modelCalls} model calls`);

    console.log(rowsTable('generate', generated, true));
    console.log();
    console.log(rowsTable('registry hit', hits, false));
    const over = summarize(generated.map((r) => r.overhead));
    const wall = summarize(generated.map((r) => r.wall));
    const floor = summarize(generated.map((r) => r.floor));
    const hit = summarize(hits.map((r) => r.overhead));
    const hitWall = summarize(hits.map((r) => r.wall));
    const ratio = wall.median / floor.median;
    console.log(
      `\nmesh.start(): ${ms(startMs)}; first task after it: ${ms(first.wall)} (model ${ms(first.model)}, `
        + `execution ${ms(first.execute)})`,
    );
    console.log(`task wall / floor (medians): ${ratio.toFixed(2)}x`);
    console.log(`\n${BENCH} benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${loadLine()}`);
    figures.push(
      {
        benchmark: BENCH,
        name: 'engine overhead per task (wall - model - execution), median',
        value: ms(over.median),
        target: `<= ${OVERHEAD_MEDIAN_TARGET_MS} ms`,
        met: over.median <= OVERHEAD_MEDIAN_TARGET_MS,
      },
      {
        benchmark: BENCH,
        name: 'engine overhead per task, p95',
        value: ms(over.p95),
        target: `<= ${OVERHEAD_P95_TARGET_MS} ms`,
        met: over.p95 <= OVERHEAD_P95_TARGET_MS,
      },
      {
        benchmark: BENCH,
        name: 'task wall, median (floor: SDK call + execution)',
        value: `${ms(wall.median)} (floor ${ms(floor.median)}, ${ratio.toFixed(2)}x)`,
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: 'registry hit (wall - execution), median',
        value: ms(hit.median),
        target: `<= ${HIT_MEDIAN_TARGET_MS} ms`,
        met: hit.median <= HIT_MEDIAN_TARGET_MS,
      },
      { benchmark: BENCH, name: 'registry hit wall, median', value: ms(hitWall.median), target: '-', met: null },
      {
        benchmark: BENCH,
        name: 'mesh.start() / first task',
        value: `${ms(startMs)} / ${ms(first.wall)}`,
        target: '-',
        met: null,
      },
    );
  } finally {
    await server.close();
    rmSync(logDir, { recursive: true, force: true });
  }
  return figures;
}

await runIfMain(import.meta.url, BENCH, (argv) => runOverheadBenchmark(parseOverheadArgs(argv)));
