/**
 * Telemetry overhead benchmark: what spans and metrics add to a task, measured in one run against the engine with
 * telemetry off (`new Mesh({ telemetry: false })`, the engine as it was before it had any).
 *
 * Meshes on the default store (each its own LOG_DIRECTORY) run distinct tasks serially against the local
 * wire-protocol server (test/llm-server, in this process) answering at once, through the official openai SDK over
 * HTTP, interleaved task by task so that drift in the machine's load hits each alike:
 *
 *   off        telemetry: false: no spans, no metrics
 *   no SDK     the default: metrics counted, spans through @opentelemetry/api with no SDK registered (no-op tracer)
 *   SDK        the default with an OpenTelemetry SDK registered (BasicTracerProvider, a BatchSpanProcessor, an
 *              in-memory exporter emptied as it goes): every span recorded
 *
 * Each configuration runs on three meshes, each with one sandbox process (tasks run one at a time): meshes of one
 * configuration differ by a few hundredths of a millisecond per task, up to ~0.15 ms in a loaded run (their own
 * sandbox processes, database files, JIT history), as much as what is measured. So the figure is the mean over every
 * pair of an `on` and an `off` mesh of the median of their paired differences, and the same mean over the pairs of
 * `off` meshes (A/A) is printed beside it as the noise. A round runs one task on each mesh, in an order that
 * rotates and reverses from round to round. The floor (one SDK call to the same server with the same reply, plus
 * one execution of the same code on the same executor) is measured after each round.
 *
 * The SDK is registered globally, so the rounds with it come after those without (phase 1: off, no SDK; phase 2:
 * off, SDK), each phase with its own `off` for comparison.
 *
 * The meshes run from dist/ (what the package ships), not from src/ through tsx, whose kept function names add a
 * call to every closure a task makes.
 *
 * Usage: npm run build && node --import tsx bench/otel.ts [--otel-tasks N]
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import {
  type CodeExecutor,
  defineAgent,
  Executor,
  Mesh,
  resetCooldowns,
  type SettingsInput,
} from '../dist/src/index.js';
import { LlmServer } from '../test/llm-server/server.js';
import { positiveInt } from './lib/args.js';
import type { Figure } from './lib/figures.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, summarize, table } from './lib/stats.js';
import { type TelemetryPath, telemetryPath } from './lib/telemetry-path.js';

const BENCH = 'otel';
const WARMUP = 20;
const ROLE = 'counter';
const MODEL = 'bench-model';
/** "Does not change measurably": the no-SDK configuration within this of `off`, median per task. */
const NO_SDK_TARGET_MS = 0.1;
/**
 * Meshes per configuration. Meshes of one configuration differ by up to ~0.15 ms per task in a loaded run (their
 * own sandbox processes, database files, JIT history): as much as what is measured, so the figure averages over
 * every pair of an `on` and an `off` mesh.
 */
const MESHES_PER_CONFIGURATION = 3;

export interface OtelBenchOptions {
  /** Timed tasks per configuration and phase (after the warm-up). */
  tasks: number;
}

export function parseOtelArgs(argv: readonly string[]): OtelBenchOptions {
  const { values } = parseArgs({ args: [...argv], options: { 'otel-tasks': { type: 'string' } }, strict: false });
  const tasks = values['otel-tasks'];
  return { tasks: positiveInt('otel-tasks', typeof tasks === 'string' ? tasks : undefined, 200) };
}

function program(i: number): string {
  return `const values = [${i}, ${i + 1}, ${i + 2}];\nconst total = values.reduce((sum, v) => sum + v, 0);\nresult = { total, count: values.length };`;
}

function reply(i: number): string {
  return `Here is the code:\n\n\`\`\`javascript\n${program(i)}\n\`\`\`\n\nIt sets \`result\`.`;
}

function task(i: number, label: string): string {
  return `Sum the values ${i}, ${i + 1} and ${i + 2} (${label} task ${i}) and report the total and the count.`;
}

interface Subject {
  label: string;
  mesh: Mesh;
  walls: number[];
}

async function startMesh(server: LlmServer, label: string, telemetry: boolean, dirs: string[]): Promise<Subject> {
  const logDir = mkdtempSync(join(tmpdir(), `automesh-bench-otel-${label.replace(/\W/g, '')}-`));
  dirs.push(logDir);
  const config = {
    LLM_ENDPOINT: server.openaiBaseUrl,
    LLM_MODEL: MODEL,
    LLM_PROVIDER_ORDER: 'vllm',
    LOG_DIRECTORY: logDir,
    REGISTRY_REUSE: false,
    MAX_REPAIR_ATTEMPTS: 0,
    LLM_MAX_RETRIES: 0,
    // Tasks run one at a time: one sandbox process per mesh (fewer processes on the cores, less noise between meshes).
    SANDBOX_WORKERS: 1,
  } as SettingsInput;
  const mesh = new Mesh({ config, telemetry });
  mesh.add(defineAgent({ role: ROLE, capabilities: ['math'], systemPrompt: 'You write JavaScript.' }));
  await mesh.start();
  return { label, mesh, walls: [] };
}

async function timeTask(server: LlmServer, subject: Subject, i: number, keep: boolean): Promise<void> {
  const agent = subject.mesh.getAgent(ROLE);
  if (!agent) throw new Error(`agent ${ROLE} missing`);
  server.script('vllm', { kind: 'text', text: reply(i) });
  const started = performance.now();
  const envelope = await agent.executeTask({ task: task(i, subject.label) });
  const wall = performance.now() - started;
  if (envelope.status !== 'success' || (envelope.output as { total?: number }).total !== 3 * i + 3)
    throw new Error(`${subject.label} task ${i} failed: ${envelope.status} ${envelope.error ?? ''}`);
  if (keep) subject.walls.push(wall);
}

async function floorOnce(client: OpenAI, server: LlmServer, executor: CodeExecutor, i: number): Promise<number> {
  server.script('vllm', { kind: 'text', text: reply(i) });
  const started = performance.now();
  await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: task(i, 'floor') }] });
  const outcome = await executor.execute({ code: program(i), context: {} });
  const took = performance.now() - started;
  if (outcome.status !== 'success') throw new Error(`floor execution ${i} failed: ${outcome.error}`);
  return took;
}

/** The order of round `i`: rotated, and reversed every other cycle (the first task pays for what the last left). */
function roundOrder<T>(subjects: readonly T[], i: number): T[] {
  const k = i % subjects.length;
  const order = [...subjects.slice(k), ...subjects.slice(0, k)];
  return Math.floor(i / subjects.length) % 2 === 1 ? order.reverse() : order;
}

/** Runs the subjects' tasks interleaved, each round followed by a floor; returns the floors. */
async function phase(
  server: LlmServer,
  client: OpenAI,
  executor: CodeExecutor,
  subjects: Subject[],
  tasks: number,
  offset: number,
): Promise<number[]> {
  const floors: number[] = [];
  for (let i = 0; i < WARMUP + tasks; i++) {
    const keep = i >= WARMUP;
    for (const subject of roundOrder(subjects, i)) await timeTask(server, subject, offset + i, keep);
    const floor = await floorOnce(client, server, executor, offset + i);
    if (keep) floors.push(floor);
  }
  return floors;
}

const PATH_BATCHES = 40;
const PATH_BATCH = 500;

/**
 * Microseconds per task of the telemetry layers alone (traced minus bare, each a median of batch means), batches
 * alternating: the CPU cost, without the I/O of a whole task to blur it.
 */
async function pathCost(path: TelemetryPath): Promise<{ traced: number; bare: number }> {
  const batch = async (run: () => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < PATH_BATCH; i++) await run();
    return ((performance.now() - started) * 1000) / PATH_BATCH;
  };
  for (let i = 0; i < 4; i++) await batch(path.traced);
  const traced: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < PATH_BATCHES; i++) {
    traced.push(await batch(path.traced));
    bare.push(await batch(path.bare));
  }
  return { traced: summarize(traced).median, bare: summarize(bare).median };
}

function pathLine(label: string, cost: { traced: number; bare: number }): string {
  return `${label}: the telemetry layers alone cost ${(cost.traced - cost.bare).toFixed(1)} µs per task (${cost.traced.toFixed(1)} µs traced, ${cost.bare.toFixed(1)} µs the same calls bare; ${PATH_BATCHES} x ${PATH_BATCH} tasks)`;
}

interface Row {
  label: string;
  wall: number;
  overhead: number;
  ratio: number;
}

/** One configuration on its meshes. */
interface Group {
  label: string;
  meshes: Subject[];
}

interface Comparison {
  rows: [Row, Row];
  /** What `on` adds to a task over `off`: the mean of the cross pairs' paired medians (every on mesh - every off mesh). */
  added: number;
  /** The A/A difference: the same mean over the pairs of `off` meshes, what meshes of one configuration differ by. */
  noise: number;
}

/**
 * The median of the paired differences x - y: each round runs one task on every mesh back to back, so a task's
 * wall minus another's of the same round cancels the machine's drift, which the difference of two medians of 200
 * noisy walls (each ~4 ms, IQR ~1 ms) cannot resolve below ~0.2 ms.
 */
function pairedMedian(x: Subject, y: Subject): number {
  return summarize(x.walls.map((w, round) => w - (y.walls[round] as number))).median;
}

function rowOf(group: Group, floor: number): Row {
  const wall = summarize(group.meshes.flatMap((m) => m.walls)).median;
  return { label: group.label, wall, overhead: wall - floor, ratio: wall / floor };
}

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

function compare(off: Group, on: Group, floors: number[]): Comparison {
  const floor = summarize(floors).median;
  const cross = on.meshes.flatMap((x) => off.meshes.map((y) => pairedMedian(x, y)));
  // Later minus earlier mesh: the sign says nothing, as the meshes of a configuration are alike.
  const within = off.meshes.flatMap((x, i) => off.meshes.slice(0, i).map((y) => pairedMedian(x, y)));
  return { rows: [rowOf(off, floor), rowOf(on, floor)], added: mean(cross), noise: mean(within) };
}

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${ms(value)}`;

function print(title: string, result: Comparison, floors: number[]): void {
  console.log(`\n${title} (floor: SDK call + execution, median ${ms(summarize(floors).median)})`);
  console.log(
    table(
      ['configuration', 'task wall, median', 'wall - floor', 'wall / floor', 'vs off (paired)'],
      result.rows.map((r, i) => [
        r.label,
        ms(r.wall),
        ms(r.overhead),
        `${r.ratio.toFixed(3)}x`,
        i === 0 ? `A/A ${signed(result.noise)}` : signed(result.added),
      ]),
    ),
  );
}

/** The floor's executor: the sandbox with no middleware, warmed. */
async function bareExecutor(): Promise<CodeExecutor> {
  const executor = new Executor({ workers: 2 });
  await executor.warm();
  return executor;
}

export async function runOtelBenchmark(options: OtelBenchOptions): Promise<Figure[]> {
  heading(`${BENCH}: telemetry overhead per task, ${options.tasks} tasks per configuration, serial, instant model`);
  const server = await LlmServer.start();
  const client = new OpenAI({ apiKey: 'not-used', baseURL: server.openaiBaseUrl, maxRetries: 0 });
  const dirs: string[] = [];
  const meshes: Mesh[] = [];
  const executor = await bareExecutor();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const benchStarted = performance.now();
  try {
    resetCooldowns();
    const groupOf = async (label: string, telemetry: boolean): Promise<Group> => {
      const group: Group = { label, meshes: [] };
      for (let i = 0; i < MESHES_PER_CONFIGURATION; i++) {
        const subject = await startMesh(server, `${label} ${i + 1}`, telemetry, dirs);
        group.meshes.push(subject);
        meshes.push(subject.mesh);
      }
      return group;
    };
    /** The meshes of both groups, alternating: off 1, on 1, off 2, on 2, ... */
    const interleaved = (x: Group, y: Group): Subject[] => x.meshes.flatMap((m, i) => [m, y.meshes[i] as Subject]);
    const off = await groupOf('off', false);
    const noSdk = await groupOf('no SDK', true);
    const floors1 = await phase(server, client, executor, interleaved(off, noSdk), options.tasks, 0);
    const phase1 = compare(off, noSdk, floors1);
    const path1 = await pathCost(telemetryPath());

    const again = (group: Group, label: string): Group => ({
      label,
      meshes: group.meshes.map((m) => ({ ...m, walls: [] })),
    });
    const off2 = again(off, 'off');
    const sdk = again(noSdk, 'SDK');
    trace.setGlobalTracerProvider(provider);
    let spans = 0;
    const drain = setInterval(() => {
      spans += exporter.getFinishedSpans().length;
      exporter.reset();
    }, 50);
    const floors2 = await phase(server, client, executor, interleaved(off2, sdk), options.tasks, 100_000);
    clearInterval(drain);
    await provider.forceFlush();
    spans += exporter.getFinishedSpans().length;
    const phase2 = compare(off2, sdk, floors2);
    const path2 = await pathCost(telemetryPath());
    await provider.forceFlush();
    exporter.reset();

    print('phase 1: no OpenTelemetry SDK registered', phase1, floors1);
    print('phase 2: an OpenTelemetry SDK registered (BatchSpanProcessor)', phase2, floors2);
    // Every mesh with the SDK ran a task each round.
    const perTask = spans / (MESHES_PER_CONFIGURATION * (WARMUP + options.tasks));
    console.log(`\nspans recorded per task with the SDK: ${perTask.toFixed(1)}`);
    console.log(`\n${pathLine('no SDK', path1)}\n${pathLine('SDK', path2)}`);
    console.log(`\n${BENCH} benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${loadLine()}`);
    const noSdkAdded = phase1.added;
    const sdkAdded = phase2.added;
    return [
      {
        benchmark: BENCH,
        name: 'no OTel SDK: added per task vs telemetry off, paired (A/A noise beside)',
        value: `${signed(noSdkAdded)} (A/A ${signed(phase1.noise)}; wall/floor ${phase1.rows[0].ratio.toFixed(3)}x off, ${phase1.rows[1].ratio.toFixed(3)}x on)`,
        target: `<= ${NO_SDK_TARGET_MS} ms`,
        met: noSdkAdded <= NO_SDK_TARGET_MS,
      },
      {
        benchmark: BENCH,
        name: 'no OTel SDK: the telemetry layers alone, CPU per task',
        value: `${(path1.traced - path1.bare).toFixed(1)} µs`,
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: 'OTel SDK registered: the telemetry layers alone, CPU per task',
        value: `${(path2.traced - path2.bare).toFixed(1)} µs`,
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: 'OTel SDK registered: added per task vs telemetry off, paired',
        value: `${signed(sdkAdded)} (${perTask.toFixed(1)} spans per task)`,
        target: '-',
        met: null,
      },
    ];
  } finally {
    for (const mesh of meshes) await mesh.stop();
    await executor.close();
    await provider.shutdown();
    trace.disable();
    await server.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, BENCH, (argv) => runOtelBenchmark(parseOtelArgs(argv)));
