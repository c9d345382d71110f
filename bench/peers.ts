/**
 * Peers benchmark (issue 16, item 9): what a peer ask costs over the bare transport it travels on, and what calling
 * a peer from generated code costs over a plain tool doing the same work.
 *
 * 1. Peer ask. `this.peers.ask('bench.answerer', message)` from one CustomAgent (`bench.asker`) to another that
 *    replies with the message (a small JSON document), against the bare transport's request/reply of the same bytes
 *    in the same run, and beside them `mesh.call` of the same agent with the same message from the asker's mesh (the
 *    mesh's own request, no peers: what peers add on top of it), in rounds whose order rotates, serial, medians:
 *    - in one process: both agents in one Mesh on an in-process broker; the floor: two bare buses on that broker,
 *      a subscriber that publishes the request's bytes back and a requester.
 *    - over NATS: a real nats-server the bench starts; the asker's Mesh in this process, the answerer's Mesh in a
 *      child process (bench/lib/peer-answerer.ts), each with its own connection; the floor: a bare `@nats-io`
 *      responder in that child process and a bare requester here, each on its own connection.
 * 2. Generated code. Two AutoAgents in one Mesh (in-process transport, SQLite storage in a temporary folder, the
 *    real sandbox), the model a scripted one (automesh/testing's `scriptedModel`, in the process, through the real
 *    provider chain): `composer` (`peers: ['scorer']`) is given code that does `await peers.ask('scorer', ...)`, a
 *    CustomAgent that counts the words of a text; `tooled` is given code that calls `score(...)`, a `defineTool`
 *    doing the same count. Each of N distinct tasks runs twice on each agent: the first run asks the model, compiles,
 *    runs, records and registers the code; the second is the registry hit (the stored code runs, no model call,
 *    checked), run once every first run is done (so it does not wait for a registration still being written).
 *    Medians of the wall time of `executeTask`, per path, and the ratio peer / tool.
 *
 * Usage: node --import tsx bench/peers.ts [--peers-serial N] [--peers-tasks N]   (needs `npm run build` first:
 *        the sandbox worker runs from dist/)
 * Exits 0 when the benchmark ran (no targets: the figures are informational); non-zero only if it could not run.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { type AutoAgent, CustomAgent, defineAgent, defineTool, type Mesh, type MeshOptions } from '../src/index.js';
import { type NatsServer, scriptedModel, startNatsServer } from '../src/testing/index.js';
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { positiveIntOptions } from './lib/args.js';
import { killed, spawnChild } from './lib/child.js';
import type { Figure } from './lib/figures.js';
import { askFloor } from './lib/nats-floor.js';
import { ANSWERER, Answerer, benchMesh, PEER_FLOOR_SUBJECT } from './lib/peer-answerer.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, type Summary, summarize, table } from './lib/stats.js';
import { type Once, rotated, serialTimes } from './lib/timing.js';

const BENCH = 'peers';
/** The message asked and answered: a small JSON document, as agents exchange. */
const MESSAGE = { text: 'a'.repeat(100) };
const BODY = new TextEncoder().encode(JSON.stringify(MESSAGE));
const ROUNDS = 8;
const WARMUP = 200;
/** Untimed tasks run on each agent before the timed ones (sandbox workers, esbuild, SQLite warm). */
const TASK_WARMUP = 4;
const TIMEOUT_MS = 10_000;
const ANSWERER_SCRIPT = fileURLToPath(new URL('./lib/peer-answerer.ts', import.meta.url));

export interface PeersBenchOptions {
  /** Serial asks per round, for peer and floor each. */
  serial: number;
  /** Distinct generated-code tasks, each run twice on each agent. */
  tasks: number;
}

export function parsePeersArgs(argv: readonly string[]): PeersBenchOptions {
  const values = positiveIntOptions(argv, { 'peers-serial': 250, 'peers-tasks': 50 });
  return { serial: values['peers-serial'], tasks: values['peers-tasks'] };
}

// ---- 1. peer ask against the transport floor --------------------------------------------------------------

/** The asking CustomAgent; the bench reaches the running instance through `Asker.self` (set by setup()). */
class Asker extends CustomAgent {
  static override role = 'bench.asker';
  static override description = 'Asks the answerer (the peer ask benchmark).';
  static self: Asker | null = null;
  override async setup(): Promise<void> {
    Asker.self = this;
  }
}

function running(): Asker {
  if (Asker.self === null) throw new Error('bench: the asker did not start');
  return Asker.self;
}

function peerAsk(asker: Asker): Once {
  return async () => {
    const reply = (await asker.peers.ask(ANSWERER, MESSAGE, { timeoutMs: TIMEOUT_MS })) as { text?: string };
    if (reply.text !== MESSAGE.text) throw new Error(`${ANSWERER} answered ${JSON.stringify(reply)}`);
  };
}

interface AskFigures {
  peer: Summary;
  /** `mesh.call` of the same agent with the same message from the asker's mesh: the mesh without peers. */
  call: Summary;
  floor: Summary;
}

function meshCall(mesh: Mesh): Once {
  return async () => {
    const reply = (await mesh.call(ANSWERER, MESSAGE, { timeoutMs: TIMEOUT_MS })) as { text?: string };
    if (reply.text !== MESSAGE.text) throw new Error(`${ANSWERER} answered ${JSON.stringify(reply)}`);
  };
}

/** Warm-up, then rounds of peer asks, mesh calls and floor requests, their order rotating each round. */
async function measureAsks(ask: Once, call: Once, floor: Once, options: PeersBenchOptions): Promise<AskFigures> {
  for (const once of [ask, call, floor]) await serialTimes(once, WARMUP);
  const [peer = [], calls = [], floors = []] = await rotated(
    ROUNDS,
    [ask, call, floor].map((once) => () => serialTimes(once, options.serial)),
  );
  return { peer: summarize(peer.flat()), call: summarize(calls.flat()), floor: summarize(floors.flat()) };
}

/** The in-process floor: a bare bus answering the request's bytes, a bare bus asking, on the mesh's broker. */
function inProcessFloor(broker: InProcessBroker): { once: Once; close(): Promise<void> } {
  const subject = 'bench.peers.floor';
  const responder = connectInProcess(broker);
  const requester = connectInProcess(broker);
  responder.subscribe(subject, (message) => {
    if (message.reply) responder.publish(message.reply, message.data);
  });
  return {
    once: async () => {
      const reply = await requester.request(subject, BODY, { timeoutMs: TIMEOUT_MS });
      if (reply.data.length !== BODY.length) throw new Error(`the floor answered ${reply.data.length} bytes`);
    },
    close: async () => {
      await Promise.all([responder.close(), requester.close()]);
    },
  };
}

async function askInProcess(options: PeersBenchOptions): Promise<AskFigures> {
  const broker = new InProcessBroker();
  const { mesh, removeLogs } = benchMesh({ bus: connectInProcess(broker) });
  mesh.add(Asker).add(Answerer);
  const floor = inProcessFloor(broker);
  try {
    await mesh.start();
    return await measureAsks(peerAsk(running()), meshCall(mesh), floor.once, options);
  } finally {
    await mesh.stop();
    await floor.close();
    removeLogs();
  }
}

/** Starts the answering process; resolves once its mesh and its floor responder serve. */
async function startAnswerer(url: string): Promise<ChildProcess> {
  const { child, lines } = spawnChild(ANSWERER_SCRIPT, [url]);
  const first = await lines.next();
  if (first.done || (JSON.parse(first.value) as { event?: string }).event !== 'ready') {
    await killed(child);
    throw new Error(`the answerer process did not say it was ready (${first.done ? 'it exited' : first.value})`);
  }
  return child;
}

/** Resolves once the asker's catalog lists the answerer (the other process registered it). */
async function whenListed(asker: Asker): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!asker.peers.list().some((peer) => peer.role === ANSWERER)) {
    if (performance.now() > deadline) throw new Error(`the asker's catalog did not list ${ANSWERER}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function askOverNats(url: string, options: PeersBenchOptions): Promise<AskFigures> {
  const answerer = await startAnswerer(url);
  const { mesh, removeLogs } = benchMesh({ config: { NATS_URL: url } });
  mesh.add(Asker);
  let requester: NatsConnection | null = null;
  try {
    await mesh.start();
    const asker = running();
    await whenListed(asker);
    const floor = await askFloor(url, PEER_FLOOR_SUBJECT, BODY, TIMEOUT_MS);
    requester = floor.connection;
    return await measureAsks(peerAsk(asker), meshCall(mesh), floor.once, options);
  } finally {
    await requester?.drain();
    await mesh.stop();
    await killed(answerer, 'SIGTERM');
    removeLogs();
  }
}

// ---- 2. generated code calling a peer, against a plain tool ----------------------------------------------

interface Score {
  words: number;
  longest: string;
}

function scoreText(text: string): Score {
  const words = text.split(/\s+/).filter(Boolean);
  return { words: words.length, longest: words.reduce((a, b) => (b.length > a.length ? b : a), '') };
}

class Scorer extends CustomAgent {
  static override role = 'scorer';
  static override capabilities = ['scoring'];
  static override description = 'Counts the words of a text and finds the longest one.';
  override async onPeerRequest(message: unknown): Promise<Score> {
    return scoreText((message as { text: string }).text);
  }
}

const scoreTool = defineTool({
  name: 'score',
  description: 'Counts the words of a text and finds the longest one.',
  input: z.tuple([z.object({ text: z.string() })]),
  output: z.object({ words: z.number(), longest: z.string() }),
  run: ({ text }) => scoreText(text),
});

const PEER_CODE = "const scored = await peers.ask('scorer', { text: context.text });\nresult = scored;";
const TOOL_CODE = 'const scored = await score({ text: context.text });\nresult = scored;';
const CONTEXT = {
  text: 'Peers let a program written by a model compose agents that other people wrote, in any language, on any machine of the mesh.',
};

const model = scriptedModel([
  { system: 'ASK-PEER', code: PEER_CODE },
  { system: 'CALL-TOOL', code: TOOL_CODE },
]);

function codegenMeshOptions(): MeshOptions {
  return {
    providers: [model],
    // SQLite under the temporary LOG_DIRECTORY, as an application runs: the result log and the registry.
    storage: undefined,
    config: { LLM_MAX_RETRIES: 0, MAX_REPAIR_ATTEMPTS: 0, REGISTRY_REUSE: true, EXECUTION_TIMEOUT: 10 },
  };
}

interface PathTimes {
  first: number[];
  hit: number[];
}

/**
 * Runs a task on the agent, timed, and checks its output. `hit` says which path it must have taken: a registry
 * hit (no model call) or a first run (exactly one model call).
 */
async function timedTask(agent: AutoAgent, task: string, hit: boolean): Promise<number> {
  const expected = JSON.stringify(scoreText(CONTEXT.text));
  const callsBefore = model.calls.length;
  const started = performance.now();
  const envelope = await agent.executeTask({ task, context: CONTEXT });
  const elapsed = performance.now() - started;
  if (envelope.status !== 'success') throw new Error(`${agent.role}: "${task}" failed: ${envelope.error}`);
  if (JSON.stringify(envelope.output) !== expected) {
    throw new Error(`${agent.role}: "${task}" returned ${JSON.stringify(envelope.output)}, not ${expected}`);
  }
  const calls = model.calls.length - callsBefore;
  if (envelope.cached !== hit || calls !== (hit ? 0 : 1)) {
    throw new Error(
      `${agent.role}: "${task}" should have been ${hit ? 'a registry hit' : 'a first run'}; it made ${calls} model call(s), cached: ${envelope.cached}`,
    );
  }
  return elapsed;
}

async function codegen(options: PeersBenchOptions): Promise<{ peer: PathTimes; tool: PathTimes }> {
  const { mesh, removeLogs } = benchMesh(codegenMeshOptions());
  mesh.add(Scorer);
  mesh.add(
    defineAgent({
      role: 'composer',
      capabilities: [],
      systemPrompt: 'ASK-PEER. You score texts with the scorer peer. Store the score in `result`.',
      peers: ['scorer'],
    }),
  );
  mesh.add(
    defineAgent({
      role: 'tooled',
      capabilities: [],
      systemPrompt: 'CALL-TOOL. You score texts with the score tool. Store the score in `result`.',
    }),
    { tools: [scoreTool] },
  );
  const out = { peer: { first: [], hit: [] } as PathTimes, tool: { first: [], hit: [] } as PathTimes };
  try {
    await mesh.start();
    const peerAgent = mesh.getAgent('composer') as AutoAgent;
    const toolAgent = mesh.getAgent('tooled') as AutoAgent;
    const tasks = Array.from(
      { length: TASK_WARMUP + options.tasks },
      (_, i) => `Score the words of the text in the context (sample ${i}).`,
    );
    // Every first run, then every hit: a hit right after its first run would wait for that run's registration,
    // which is written in the background once the result is stored.
    for (const hit of [false, true]) {
      for (const [i, task] of tasks.entries()) {
        const run = async (agent: AutoAgent, into: PathTimes): Promise<void> => {
          const elapsed = await timedTask(agent, task, hit);
          if (i >= TASK_WARMUP) (hit ? into.hit : into.first).push(elapsed);
        };
        // Which variant goes first swaps each task, so the machine's noise hits both alike.
        if (i % 2 === 0) {
          await run(peerAgent, out.peer);
          await run(toolAgent, out.tool);
        } else {
          await run(toolAgent, out.tool);
          await run(peerAgent, out.peer);
        }
      }
    }
    return out;
  } finally {
    await mesh.stop();
    removeLogs();
  }
}

// ---- the run ----------------------------------------------------------------------------------------------

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

function askLine(where: string, f: AskFigures): string {
  return (
    `${where}: peer ask ${ratio(f.peer.median, f.floor.median)} the floor (medians), added `
    + `${ms(f.peer.median - f.floor.median)}, of which the mesh call ${ms(f.call.median - f.floor.median)} `
    + `and peers on top of it ${ms(f.peer.median - f.call.median)}`
  );
}

function informational(name: string, value: string): Figure {
  return { benchmark: BENCH, name, value, target: '-', met: null };
}

export async function runPeersBenchmark(options: PeersBenchOptions): Promise<Figure[]> {
  heading(`${BENCH}: peer ask vs the bare transport (in one process, over NATS); generated code: peer vs tool`);
  const benchStarted = performance.now();
  const local = await askInProcess(options);
  const nats: NatsServer = await startNatsServer();
  let remote: AskFigures;
  try {
    remote = await askOverNats(nats.url, options);
  } finally {
    await nats.stop();
  }
  const code = await codegen(options);

  const askRow = (name: string, s: Summary): string[] => [name, ms(s.median), ms(s.p95), ms(s.mean)];
  console.log(
    table(
      ['serial request/reply', 'median', 'p95', 'mean'],
      [
        askRow('peers.ask in one process (CustomAgent -> CustomAgent)', local.peer),
        askRow('mesh.call of the same agent in one process', local.call),
        askRow('floor: in-process bus request/reply', local.floor),
        askRow('peers.ask over NATS (two processes)', remote.peer),
        askRow('mesh.call of the same agent over NATS', remote.call),
        askRow('floor: bare @nats-io request/reply (two processes)', remote.floor),
      ],
    ),
  );
  console.log(`\n${askLine('in one process', local)}\n${askLine('over NATS', remote)}`);
  const paths = {
    peerFirst: summarize(code.peer.first),
    toolFirst: summarize(code.tool.first),
    peerHit: summarize(code.peer.hit),
    toolHit: summarize(code.tool.hit),
  };
  console.log(
    `\n${table(
      [`generated-code task (${options.tasks} tasks each)`, 'median', 'p95', 'mean'],
      [
        askRow('first run, code calls peers.ask (model call)', paths.peerFirst),
        askRow('first run, code calls a defineTool (model call)', paths.toolFirst),
        askRow('registry hit, code calls peers.ask (no model call)', paths.peerHit),
        askRow('registry hit, code calls a defineTool (no model call)', paths.toolHit),
      ],
    )}`,
  );
  console.log(
    `\nfirst run: peer ${ratio(paths.peerFirst.median, paths.toolFirst.median)} the tool (medians), `
      + `added ${ms(paths.peerFirst.median - paths.toolFirst.median)}`
      + `\nregistry hit: peer ${ratio(paths.peerHit.median, paths.toolHit.median)} the tool (medians), `
      + `added ${ms(paths.peerHit.median - paths.toolHit.median)}`,
  );
  console.log(`\n${BENCH} benchmark took ${((performance.now() - benchStarted) / 1000).toFixed(1)} s; ${loadLine()}`);

  const askValue = (f: AskFigures): string =>
    `${ratio(f.peer.median, f.floor.median)} (peer ${ms(f.peer.median)}, floor ${ms(f.floor.median)})`;
  const codeValue = (peer: Summary, tool: Summary): string =>
    `${ratio(peer.median, tool.median)} (peer ${ms(peer.median)}, tool ${ms(tool.median)})`;
  return [
    informational('peer ask in one process / in-process bus floor, medians', askValue(local)),
    informational('peer ask over NATS, two processes / bare NATS floor, medians', askValue(remote)),
    informational(
      'generated code: peer / tool, first run (model call), medians',
      codeValue(paths.peerFirst, paths.toolFirst),
    ),
    informational('generated code: peer / tool, registry hit, medians', codeValue(paths.peerHit, paths.toolHit)),
  ];
}

await runIfMain(import.meta.url, BENCH, (argv) => runPeersBenchmark(parsePeersArgs(argv)));
