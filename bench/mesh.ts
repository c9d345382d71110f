/**
 * Mesh benchmark: what the mesh adds to a call on NATS, beside a bare NATS request/reply on the same server in the
 * same run; how fast the catalog follows agents coming and dying; how a 3-replica agent shares its load.
 *
 * The bench starts its own nats-server (JetStream, a free loopback port, a temporary store it removes).
 *
 * 1. Request/reply. A function agent (`bench.echo`, a responder that returns its input) on one Mesh, `mesh.call`
 *    from another Mesh, each with its own NATS connection. The floor: two bare `@nats-io/transport-node`
 *    connections, a subscriber that replies with the request's bytes and a requester, with the same body (the
 *    mesh's JSON of the same input). Mesh and floor rounds alternate (and swap which goes first) so the machine's
 *    noise hits both: serial latency (median, p95; added latency = mesh median - floor median), then throughput
 *    with N requests in flight (requests/s per round; the figure is the median of the rounds' mesh/floor ratios,
 *    each round's pair adjacent in time). The same serial latency on
 *    the in-process transport is printed for reference.
 * 2. The catalog. A new Mesh in this process starts serving a new agent: time from its `start()` call until the
 *    caller's catalog cache lists it. Three provider processes (bench/lib/mesh-provider.ts) the same way, timed on
 *    the wall clock both sides share from the provider's `start()` call. Then each provider process is SIGKILLed
 *    with a call to it in flight: time until that call fails (with `agent_died`) and until the caller's catalog no
 *    longer lists the provider's agent.
 * 3. Load split: 300 serial calls to the agent the three provider processes all serve; the share each answered.
 *
 * The mesh runs from dist/ (what the package ships, compiled by tsc), not from src/ through tsx: tsx's esbuild keeps
 * function names by adding a call to every named closure, a cost the shipped code does not have and the floor's
 * client (plain JavaScript in node_modules) does not pay either.
 *
 * Usage: npm run build && node --import tsx bench/mesh.ts [--mesh-serial N] [--mesh-inflight N]
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { createMemoryStorage, Mesh } from '../dist/src/index.js';
import { type NatsServer, startNatsServer } from '../dist/src/testing/index.js';
import { type Bus, connectInProcess, InProcessBroker, isMeshError } from '../dist/src/transport/index.js';
import { positiveInt } from './lib/args.js';
import { killed, spawnChild } from './lib/child.js';
import type { Figure } from './lib/figures.js';
import { meshConfig, type ProviderLine, REPLICA_AGENT, victimAgent, wallClock } from './lib/mesh-provider.js';
import { answerFloor, askFloor } from './lib/nats-floor.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, summarize, table } from './lib/stats.js';
import { alternate, type Once, serialTimes } from './lib/timing.js';

const BENCH = 'mesh';
const ADDED_LATENCY_TARGET_MS = 0.2;
const THROUGHPUT_RATIO_TARGET = 0.8;
const AGENT_DIED_TARGET_MS = 2000;
const ECHO = 'bench.echo';
const FLOOR_SUBJECT = 'bench.floor.echo';
/** The request body: a small JSON document, as agents exchange. */
const INPUT = { text: 'a'.repeat(100) };
const ROUNDS = 8;
/**
 * Throughput rounds (each ~0.15 s a side). The figure is the median of the rounds' mesh/floor ratios: each round's
 * two runs are adjacent in time, so a drift of the machine's speed (the floor alone moved 25-41k/s between runs)
 * cancels within a pair instead of deciding which median lands where. 24 rounds of 4,000 requests: with 16 of 3,000
 * the figure of one unchanged build moved 0.79-0.97 between runs, one burst of the machine's noise deciding it.
 */
const THROUGHPUT_ROUNDS = 24;
const THROUGHPUT_REQUESTS = 4000;
const WARMUP = 200;
const REPLICAS = 3;
const SPLIT_CALLS = 300;
const NEW_MESHES = 5;
const CALL_TIMEOUT_MS = 10_000;
const PROVIDER_SCRIPT = fileURLToPath(new URL('./lib/mesh-provider.ts', import.meta.url));

export interface MeshBenchOptions {
  /** Serial calls per round, for mesh and floor each. */
  serial: number;
  /** Requests kept in flight in the throughput rounds. */
  inflight: number;
  /** Requests per throughput round, for mesh and floor each. */
  throughputRequests: number;
}

export function parseMeshArgs(argv: readonly string[]): MeshBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { 'mesh-serial': { type: 'string' }, 'mesh-inflight': { type: 'string' } },
    strict: false,
  });
  const value = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    serial: positiveInt('mesh-serial', value('mesh-serial'), 250),
    inflight: positiveInt('mesh-inflight', value('mesh-inflight'), 64),
    throughputRequests: THROUGHPUT_REQUESTS,
  };
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

function meshEcho(caller: Mesh): Once {
  return async () => {
    const reply = (await caller.call(ECHO, INPUT, { timeoutMs: CALL_TIMEOUT_MS })) as { text?: string };
    if (reply.text !== INPUT.text) throw new Error(`${ECHO} answered ${JSON.stringify(reply)}`);
  };
}

/** Requests per second with `inflight` requests outstanding until `total` have been answered. */
async function throughput(once: Once, inflight: number, total: number): Promise<number> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < total) {
      issued += 1;
      await once();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inflight, total) }, worker));
  return total / ((performance.now() - started) / 1000);
}

/** The floor: a bare subscriber that replies with the request's bytes, and a bare requester, on two connections. */
async function openFloor(url: string): Promise<{ once: Once; close(): Promise<void> }> {
  const responder = await answerFloor(url, FLOOR_SUBJECT);
  const body = new TextEncoder().encode(JSON.stringify(INPUT));
  const requester = await askFloor(url, FLOOR_SUBJECT, body, CALL_TIMEOUT_MS);
  return {
    once: requester.once,
    close: async () => {
      await Promise.all([requester.connection, responder].map((nc: NatsConnection) => nc.drain()));
    },
  };
}

function echoMesh(options: { url?: string; bus?: Bus }): Mesh {
  const mesh = callerMesh(options);
  mesh.agent(
    {
      name: ECHO,
      description: 'Returns its input: the request/reply benchmark.',
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
    },
    (input) => input,
  );
  return mesh;
}

/** A mesh with no agents of its own (on NATS), or with one placeholder (in-process needs one). */
function callerMesh(options: { url?: string; bus?: Bus }): Mesh {
  return new Mesh({
    config: meshConfig(options.url),
    storage: createMemoryStorage(),
    ...(options.bus ? { bus: options.bus } : {}),
  });
}

interface RequestReplyFigures {
  mesh: ReturnType<typeof summarize>;
  floor: ReturnType<typeof summarize>;
  meshRate: number;
  floorRate: number;
  /** Median of the per-round mesh/floor ratios. */
  rateRatio: number;
}

async function requestReply(url: string, options: MeshBenchOptions): Promise<RequestReplyFigures> {
  const provider = echoMesh({ url });
  const caller = callerMesh({ url });
  await provider.start();
  await caller.start();
  const floor = await openFloor(url);
  try {
    const once = meshEcho(caller);
    await serialTimes(once, WARMUP);
    await serialTimes(floor.once, WARMUP);
    const serial = await alternate(
      ROUNDS,
      () => serialTimes(once, options.serial),
      () => serialTimes(floor.once, options.serial),
    );
    const rates = await alternate(
      THROUGHPUT_ROUNDS,
      () => throughput(once, options.inflight, options.throughputRequests),
      () => throughput(floor.once, options.inflight, options.throughputRequests),
    );
    return {
      mesh: summarize(serial.mesh.flat()),
      floor: summarize(serial.floor.flat()),
      meshRate: summarize(rates.mesh).median,
      floorRate: summarize(rates.floor).median,
      rateRatio: summarize(rates.mesh.map((rate, i) => rate / (rates.floor[i] as number))).median,
    };
  } finally {
    await floor.close();
    await caller.stop();
    await provider.stop();
  }
}

/** The same serial calls on the in-process transport (one broker, two buses), for reference. */
async function inProcessLatency(options: MeshBenchOptions): Promise<ReturnType<typeof summarize>> {
  const broker = new InProcessBroker();
  const buses = [connectInProcess(broker), connectInProcess(broker)] as const;
  const provider = echoMesh({ bus: buses[0] });
  const caller = echoMesh({ bus: buses[1] });
  await provider.start();
  await caller.start();
  try {
    const once = meshEcho(caller);
    await serialTimes(once, WARMUP);
    return summarize(await serialTimes(once, options.serial * ROUNDS));
  } finally {
    await caller.stop();
    await provider.stop();
    await Promise.all(buses.map((bus) => bus.close()));
  }
}

/** Resolves with the wall-clock time at which `test` first holds for the caller's catalog (checked every 1 ms). */
async function whenCatalog(caller: Mesh, test: (names: Set<string>) => boolean, limitMs: number): Promise<number> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const names = new Set((await caller.catalog()).map((entry) => entry.name));
    if (test(names)) return wallClock();
    await sleep(1);
  }
  throw new Error(`the catalog did not change as expected within ${limitMs} ms`);
}

/** A new Mesh in this process starts serving: ms from its start() call until the caller's catalog lists it. */
async function newMeshAppearances(url: string, caller: Mesh): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < NEW_MESHES; i++) {
    const name = `bench.fresh-${i}`;
    const mesh = callerMesh({ url });
    mesh.agent({ name, description: 'A new agent the catalog should show.' }, () => undefined);
    const started = wallClock();
    const listed = whenCatalog(caller, (names) => names.has(name), 10_000);
    listed.catch(() => undefined); // awaited below; a start() that fails first must not leave it unhandled
    try {
      await mesh.start();
      times.push((await listed) - started);
    } finally {
      await mesh.stop();
    }
  }
  return times;
}

interface Provider {
  index: number;
  child: ChildProcess;
  lines: AsyncIterator<string>;
  startingAt: number;
  readyAt: number;
  pid: number;
}

async function nextLine(provider: Pick<Provider, 'lines' | 'index'>, event: ProviderLine['event']) {
  const next = await provider.lines.next();
  if (next.done) throw new Error(`provider process ${provider.index} exited before it said "${event}"`);
  const line = JSON.parse(next.value) as ProviderLine;
  if (line.event !== event) throw new Error(`provider process ${provider.index} said ${next.value}, not "${event}"`);
  return line;
}

function spawnProvider(url: string, index: number): { child: ChildProcess; ready: Promise<Provider> } {
  const { child, lines } = spawnChild(PROVIDER_SCRIPT, [url, String(index)]);
  const ready = (async () => {
    const starting = await nextLine({ lines, index }, 'starting');
    const ready = await nextLine({ lines, index }, 'ready');
    return {
      index,
      child,
      lines,
      startingAt: starting.at,
      readyAt: ready.at,
      pid: ready.event === 'ready' ? ready.pid : -1,
    };
  })();
  return { child, ready };
}

interface Death {
  failedMs: number;
  code: string;
  droppedMs: number;
}

/** SIGKILL with a call in flight: how long until the call fails, and until the catalog drops the agent. */
async function killWithCallInFlight(caller: Mesh, provider: Provider): Promise<Death> {
  const name = victimAgent(provider.index);
  const call = caller.call(name, { hold: true }, { timeoutMs: CALL_TIMEOUT_MS });
  const outcome = call.then(
    () => ({ at: wallClock(), code: 'answered' }),
    (err: unknown) => ({ at: wallClock(), code: isMeshError(err) ? err.code : String(err) }),
  );
  await sleep(50); // the request reaches the provider, whose handler holds it
  const dropped = whenCatalog(caller, (names) => !names.has(name), 10_000);
  const killedAt = wallClock();
  await killed(provider.child);
  const [failed, droppedAt] = await Promise.all([outcome, dropped]);
  return { failedMs: failed.at - killedAt, code: failed.code, droppedMs: droppedAt - killedAt };
}

/** 300 serial calls to the agent every provider process serves: how many each answered, by process id. */
async function loadSplit(caller: Mesh, providers: readonly Provider[]): Promise<number[]> {
  const counts = new Map(providers.map((p) => [p.pid, 0]));
  for (let i = 0; i < SPLIT_CALLS; i++) {
    const { pid } = (await caller.call(REPLICA_AGENT, { n: i }, { timeoutMs: CALL_TIMEOUT_MS })) as { pid: number };
    const count = counts.get(pid);
    if (count === undefined) throw new Error(`${REPLICA_AGENT} answered from an unknown process ${pid}`);
    counts.set(pid, count + 1);
  }
  return providers.map((p) => counts.get(p.pid) ?? 0);
}

interface ProcessFigures {
  appearMs: number[];
  appearAfterReadyMs: number[];
  shares: number[];
  deaths: Death[];
}

async function processes(url: string): Promise<ProcessFigures> {
  const caller = callerMesh({ url });
  await caller.start();
  const spawned = Array.from({ length: REPLICAS }, (_, index) => spawnProvider(url, index));
  try {
    const listed = spawned.map((_, index) => whenCatalog(caller, (names) => names.has(victimAgent(index)), 30_000));
    for (const waiting of listed) waiting.catch(() => undefined); // awaited below, after the processes are ready
    const providers = await Promise.all(spawned.map((s) => s.ready));
    const listedAt = await Promise.all(listed);
    const shares = await loadSplit(caller, providers);
    const deaths: Death[] = [];
    for (const provider of providers) deaths.push(await killWithCallInFlight(caller, provider));
    return {
      appearMs: providers.map((p, i) => (listedAt[i] as number) - p.startingAt),
      appearAfterReadyMs: providers.map((p, i) => (listedAt[i] as number) - p.readyAt),
      shares,
      deaths,
    };
  } finally {
    await Promise.all(spawned.map((s) => killed(s.child)));
    await caller.stop();
  }
}

function list(values: readonly number[], format: (v: number) => string = ms): string {
  return values.map(format).join(', ');
}

export async function runMeshBenchmark(options: MeshBenchOptions): Promise<Figure[]> {
  heading(`${BENCH}: request/reply through the mesh vs bare NATS, ${ROUNDS} alternating rounds; catalog; load split`);
  const benchStarted = performance.now();
  const nats: NatsServer = await startNatsServer();
  const figures: Figure[] = [];
  try {
    const rr = await requestReply(nats.url, options);
    const local = await inProcessLatency(options);
    const catalogCaller = callerMesh({ url: nats.url });
    await catalogCaller.start();
    let appear: number[];
    try {
      appear = await newMeshAppearances(nats.url, catalogCaller);
    } finally {
      await catalogCaller.stop();
    }
    const procs = await processes(nats.url);

    const added = rr.mesh.median - rr.floor.median;
    const ratio = rr.rateRatio;
    const row = (name: string, s: ReturnType<typeof summarize>): string[] => [
      name,
      ms(s.median),
      ms(s.p95),
      ms(s.mean),
    ];
    console.log(
      table(
        ['serial request/reply', 'median', 'p95', 'mean'],
        [
          row('mesh.call on NATS (function agent)', rr.mesh),
          row('floor: bare @nats-io request/reply', rr.floor),
          row('mesh.call in-process (reference)', local),
        ],
      ),
    );
    console.log(
      `\nadded latency (medians): ${ms(added)}; p95 added ${ms(rr.mesh.p95 - rr.floor.p95)}`
        + `\nthroughput, ${options.inflight} in flight (${THROUGHPUT_ROUNDS} rounds of ${options.throughputRequests} `
        + `requests a side): median rates mesh ${rr.meshRate.toFixed(0)}/s, floor ${rr.floorRate.toFixed(0)}/s `
        + `(${(rr.meshRate / rr.floorRate).toFixed(2)}x); median of the rounds' ratios ${ratio.toFixed(2)}x the floor`,
    );
    const appearSummary = summarize(appear);
    console.log(
      `\ncatalog shows a new agent, new Mesh in this process (start() call -> listed): ${list(appear)}`
        + `\ncatalog shows a new agent, provider process (start() call -> listed): ${list(procs.appearMs)}`
        + ` (after its start() resolved: ${list(procs.appearAfterReadyMs)})`
        + `\nprovider process SIGKILLed: call in flight failed after ${list(procs.deaths.map((d) => d.failedMs))}`
        + ` (${procs.deaths.map((d) => d.code).join(', ')}); catalog dropped it after `
        + `${list(procs.deaths.map((d) => d.droppedMs))}`
        + `\nload split of ${SPLIT_CALLS} calls over ${REPLICAS} provider processes: `
        + `${procs.shares.map((n) => `${n} (${((100 * n) / SPLIT_CALLS).toFixed(0)}%)`).join(', ')}`,
    );
    console.log(`\n${BENCH} benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${loadLine()}`);

    const died = summarize(procs.deaths.map((d) => d.failedMs));
    const allDied = procs.deaths.every((d) => d.code === 'agent_died');
    figures.push(
      {
        benchmark: BENCH,
        name: 'added latency per call on NATS (mesh - floor medians)',
        value: `${ms(added)} (mesh ${ms(rr.mesh.median)}, floor ${ms(rr.floor.median)})`,
        target: `<= ${ADDED_LATENCY_TARGET_MS} ms`,
        met: added <= ADDED_LATENCY_TARGET_MS,
      },
      {
        benchmark: BENCH,
        name: 'call latency p95 on NATS (mesh / floor)',
        value: `${ms(rr.mesh.p95)} / ${ms(rr.floor.p95)}`,
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: `throughput, ${options.inflight} in flight (mesh / floor, median of ${THROUGHPUT_ROUNDS} paired rounds)`,
        value: `${ratio.toFixed(2)}x (${rr.meshRate.toFixed(0)}/s / ${rr.floorRate.toFixed(0)}/s)`,
        target: `>= ${THROUGHPUT_RATIO_TARGET}x the floor`,
        met: ratio >= THROUGHPUT_RATIO_TARGET,
      },
      { benchmark: BENCH, name: 'call latency in-process, median', value: ms(local.median), target: '-', met: null },
      {
        benchmark: BENCH,
        name: 'catalog shows a new agent (new Mesh / process), median',
        value: `${ms(appearSummary.median)} / ${ms(summarize(procs.appearMs).median)}`,
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: 'SIGKILLed provider: call in flight fails, slowest',
        value: `${ms(died.max)} (${allDied ? 'agent_died' : procs.deaths.map((d) => d.code).join(', ')})`,
        target: `<= ${AGENT_DIED_TARGET_MS} ms, agent_died`,
        met: allDied && died.max <= AGENT_DIED_TARGET_MS,
      },
      {
        benchmark: BENCH,
        name: 'SIGKILLed provider: catalog drops it, slowest',
        value: ms(Math.max(...procs.deaths.map((d) => d.droppedMs))),
        target: '-',
        met: null,
      },
      {
        benchmark: BENCH,
        name: `load split, ${SPLIT_CALLS} calls over ${REPLICAS} processes`,
        value: procs.shares.map((n) => `${((100 * n) / SPLIT_CALLS).toFixed(0)}%`).join(' / '),
        target: '-',
        met: null,
      },
    );
  } finally {
    await nats.stop();
  }
  return figures;
}

await runIfMain(import.meta.url, BENCH, (argv) => runMeshBenchmark(parseMeshArgs(argv)));
