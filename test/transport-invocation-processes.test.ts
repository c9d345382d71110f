// Function agents across real OS processes over a real nats-server: a provider process and a caller process (no
// shared memory, only NATS), and three replica processes sharing one agent's load through queue group q.{name},
// each request answered once, each replica draining its requests in flight when it is stopped.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { connectNats } from '../src/transport/nats/index.js';
import { Caller } from '../src/transport/oam/caller.js';
import { runScript } from './helpers/run-script.js';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const PROVIDER = join(here, 'fixtures', 'mesh-agent-process.ts');
const CALLER = join(here, 'fixtures', 'mesh-caller-process.ts');

interface Provider {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Starts a provider process and waits until it says its agents are served. */
async function startProvider(url: string, replica: string): Promise<Provider> {
  const child = spawn(process.execPath, ['--import', tsx, PROVIDER, url, replica], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provider ${replica} not ready within 30 s:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`provider ${replica} exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return { child, exited, stderr: () => stderr };
}

/** SIGTERM (the provider drains and exits 0), SIGKILL if it does not exit within 10 s. */
async function stopProvider(provider: Provider): Promise<number | null> {
  if (provider.child.exitCode !== null) return provider.child.exitCode;
  provider.child.kill('SIGTERM');
  const timer = setTimeout(() => provider.child.kill('SIGKILL'), 10_000);
  try {
    return await provider.exited;
  } finally {
    clearTimeout(timer);
  }
}

const available = natsServerAvailable();

describe('function agents across processes over NATS', { skip: available ? false : NATS_MISSING }, () => {
  let server: NatsServer;
  const providers: Provider[] = [];
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await Promise.all(providers.map(stopProvider));
    await server?.stop();
  });

  test('a provider process serves, a caller process calls: results, a stream, and the remote error codes', async () => {
    const provider = await startProvider(server.url, 'solo');
    providers.push(provider);
    const run = await runScript(CALLER, { env: { ...process.env, NATS_URL: server.url } });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.deepEqual(report.sums, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(report.providerPids, [provider.child.pid], 'answered by the provider process');
    assert.notEqual(report.callerPid, provider.child.pid);
    assert.deepEqual(report.chunks, [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    assert.equal(report.invalidInput, 'invalid_input');
    assert.equal(report.mismatch, 'invocation_mismatch', 'the provider refuses a call to its streamer');
    assert.equal(report.missing, 'not_found');
    assert.equal(await stopProvider(provider), 0, provider.stderr());
  });

  test('three replica processes share one agent through q.{name}: each request answered once, all three serve, stop drains', async () => {
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map((id) => startProvider(server.url, id)));
    providers.push(...replicas);
    const bus = await connectNats({ settings: { NATS_URL: server.url }, name: 'automesh-test-load' });
    try {
      const caller = new Caller(bus);
      const answers = (await Promise.all(
        Array.from({ length: 60 }, (_, n) =>
          caller.call('proc.add', { a: n, b: 0, delayMs: 20 }, { timeoutMs: 20_000 }),
        ),
      )) as Array<{ sum: number; replica: string; pid: number }>;
      assert.deepEqual(
        answers.map((a) => a.sum),
        Array.from({ length: 60 }, (_, n) => n),
        'every request answered, once, with its own result',
      );
      const perReplica = new Map<string, number>();
      for (const answer of answers) perReplica.set(answer.replica, (perReplica.get(answer.replica) ?? 0) + 1);
      assert.deepEqual(
        [...perReplica.keys()].sort(),
        ['r1', 'r2', 'r3'],
        `load split: ${JSON.stringify([...perReplica])}`,
      );
      assert.deepEqual(
        new Set(answers.map((a) => a.pid)),
        new Set(replicas.map((r) => r.child.pid)),
        'answered by the three replica processes',
      );

      // A request in flight when its replica is told to stop is still answered (the replica drains first).
      const slow = Array.from({ length: 6 }, (_, n) =>
        caller.call('proc.add', { a: n, b: 100, delayMs: 800 }, { timeoutMs: 20_000 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const codes = await Promise.all(replicas.map(stopProvider));
      assert.deepEqual(codes, [0, 0, 0], replicas.map((r) => r.stderr()).join('\n'));
      const drained = (await Promise.all(slow)) as Array<{ sum: number }>;
      assert.deepEqual(
        drained.map((a) => a.sum),
        [100, 101, 102, 103, 104, 105],
      );
    } finally {
      await bus.close();
    }
  });
});
