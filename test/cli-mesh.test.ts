// `automesh mesh up`: a real nats-server with JetStream that a client reaches at the printed URL, on loopback,
// stopped by Ctrl-C (SIGINT); without nats-server it says how to install it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS_MISSING, natsServerAvailable } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('mesh up starts a JetStream server on loopback that clients reach, keeps its store, and stops on Ctrl-C', {
  skip: natsServerAvailable() ? false : NATS_MISSING,
}, async () => {
  const dir = tempDir('mesh-up');
  const port = await freePort();
  const run = startCli(['mesh', 'up', '--port', String(port)], dir);
  try {
    await waitFor(() => run.out().includes('Ctrl-C'), 'the server to be up');
    const url = `nats://127.0.0.1:${port}`;
    assert.match(run.out(), new RegExp(`export NATS_URL=${url.replace(/[.]/g, '\\.')}`));
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      assert.ok(info.limits !== undefined, 'JetStream answers');
    } finally {
      await nc.close();
    }
    assert.match(run.out(), new RegExp(`JetStream store ${join(dir, 'logs', 'nats').replace(/[.]/g, '\\.')}`));
  } finally {
    run.child.kill('SIGINT');
  }
  assert.equal(await run.exited, 0, run.err());
  assert.match(run.out(), /NATS stopped/);
});

test('mesh up without nats-server says how to install it', async () => {
  const dir = tempDir('mesh-up-missing');
  const run = startCli(['mesh', 'up'], dir, { ...process.env, NATS_SERVER_BIN: join(dir, 'no-such-nats-server') });
  assert.equal(await run.exited, 1);
  assert.match(run.err(), /nats-server is not installed/);
  assert.match(run.err(), /apt-get install nats-server/);
});

test('mesh up refuses a port that is no port, and an unknown action', async () => {
  const dir = tempDir('mesh-up-usage');
  const bad = startCli(['mesh', 'up', '--port', '99999'], dir);
  assert.equal(await bad.exited, 1);
  assert.match(bad.err(), /--port must be a whole number from 1 to 65535; got "99999"/);
  const unknown = startCli(['mesh', 'down'], dir);
  assert.equal(await unknown.exited, 1);
  assert.match(unknown.err(), /Unknown mesh action "down"/);
});
