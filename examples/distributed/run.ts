// The distributed research network in one command (`npm run example:distributed`): four OS processes on one
// nats-server. It starts a local nats-server (JetStream on, a throwaway store; or uses NATS_URL when that is set),
// the three research nodes, waits until their agents are in the mesh's catalog, runs the synthesizer (which runs
// the workflow), then stops the nodes and the server it started and removes the store. Each process keeps its
// result logs in a folder of its own under LOG_DIRECTORY, as separate machines would.
// Run: npm run build && npm run example:distributed
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryStorage, loadSettings, Mesh } from '../../src/index.js';
import { type LocalNatsServer, startLocalNatsServer } from '../../src/transport/local-nats-server.js';
import { RESEARCH_AREAS, waitForResearchers } from './research-areas.js';

const here = dirname(fileURLToPath(import.meta.url));
const NAME_WIDTH = 15;
/** Nodes start tsx, connect, warm their sandbox workers: seconds, more on a busy machine. */
const NODES_READY_MS = 60_000;
/** A node finishes the work it has before it leaves; after the workflow it has none. */
const STOP_GRACE_MS = 20_000;

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

/** Every line a child prints, prefixed with its name, as docker compose does. */
function forward(name: string, from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream): void {
  let pending = '';
  from?.setEncoding('utf8');
  from?.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) to.write(`${name.padEnd(NAME_WIDTH)} | ${line}\n`);
  });
  from?.on('end', () => {
    if (pending) to.write(`${name.padEnd(NAME_WIDTH)} | ${pending}\n`);
  });
}

/** A process of the network, running this file's loader (tsx) on a script of this folder. */
function startChild(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [...process.execArgv, join(here, script), ...args], {
    env,
    // The IPC channel tells a node when this launcher is gone, even if it could not stop the node itself.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Out of the terminal's process group, as the server is: a Ctrl-C reaches the launcher only, which stops each
    // node (SIGTERM) and then the server, in that order.
    detached: true,
  });
  forward(name, child.stdout, process.stdout);
  forward(name, child.stderr, process.stderr);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  console.log(`started ${name} (pid ${child.pid})`);
  return { name, process: child, exited };
}

/** SIGTERM (once: a node that is already leaving is left to finish), and SIGKILL after the grace time. */
async function stopChild(child: Child): Promise<void> {
  const running = child.process.exitCode === null && child.process.signalCode === null;
  if (running && !child.process.killed) child.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`${child.name} did not stop within ${STOP_GRACE_MS / 1000} s: killing it (SIGKILL)`);
    child.process.kill('SIGKILL');
  }, STOP_GRACE_MS);
  const code = await child.exited;
  clearTimeout(timer);
  console.log(`stopped ${child.name} (${code === null ? child.process.signalCode : `exit ${code}`})`);
}

/** Rejects when a node exits before the workflow is over: the network cannot do without it. */
function exitedEarly(nodes: Child[]): Promise<never> {
  return new Promise((_, reject) => {
    for (const node of nodes) {
      void node.exited.then((code) =>
        reject(new Error(`${node.name} exited (${code ?? node.process.signalCode}) before the workflow ran.`)),
      );
    }
  });
}

const settings = loadSettings();
const logRoot = resolve(settings.LOG_DIRECTORY);
let nats: LocalNatsServer | null = null;
let natsDir: string | null = null;
const nodes: Child[] = [];
let synthesizer: Child | null = null;

const interrupt = (signal: NodeJS.Signals): void => {
  console.log(`${signal}: stopping every process of the example`);
  for (const child of [...nodes, ...(synthesizer ? [synthesizer] : [])]) child.process.kill('SIGTERM');
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

try {
  let natsUrl = settings.NATS_URL;
  if (natsUrl) {
    console.log(`using the nats-server at NATS_URL (${natsUrl})`);
  } else {
    natsDir = mkdtempSync(join(tmpdir(), 'automesh-example-nats-'));
    const storeDir = join(natsDir, 'store');
    mkdirSync(storeDir);
    // Out of the terminal's process group: Ctrl-C stops the nodes first, and the server after them.
    nats = await startLocalNatsServer({ storeDir, ownProcessGroup: true });
    natsUrl = nats.url;
    console.log(`started nats-server at ${natsUrl} (pid ${nats.process.pid}, JetStream store ${storeDir})`);
  }
  const envOf = (node: string): NodeJS.ProcessEnv => ({
    ...process.env,
    NATS_URL: natsUrl,
    NODE_NAME: node,
    LOG_DIRECTORY: join(logRoot, node),
  });
  for (const area of RESEARCH_AREAS)
    nodes.push(startChild(area.node, 'research-node.ts', [area.step], envOf(area.node)));

  // A mesh with no agents of its own, only to watch the catalog until every research agent is in it.
  const watcher = new Mesh({
    mode: 'distributed',
    storage: createMemoryStorage(),
    config: { NATS_URL: natsUrl, NODE_NAME: 'launcher' },
  });
  await watcher.start();
  try {
    const servedBy = await Promise.race([waitForResearchers(watcher, NODES_READY_MS), exitedEarly(nodes)]);
    console.log(`in the catalog: ${[...servedBy].map(([role, node]) => `${role} on ${node}`).join(', ')}`);
  } finally {
    await watcher.stop();
  }

  synthesizer = startChild('synthesizer', 'synthesizer.ts', [], envOf('synthesizer'));
  const code = await synthesizer.exited;
  console.log(`synthesizer finished (${code === null ? synthesizer.process.signalCode : `exit ${code}`})`);
  process.exitCode = code === 0 ? 0 : 1;
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await Promise.all(nodes.map(stopChild));
  if (nats) {
    // SIGINT is nats-server's clean shutdown.
    await nats.stop('SIGINT');
    console.log(`stopped nats-server (pid ${nats.process.pid})`);
  }
  if (natsDir) rmSync(natsDir, { recursive: true, force: true });
  console.log(`every process the example started has exited; the result logs of each are in ${logRoot}/<process>`);
}
