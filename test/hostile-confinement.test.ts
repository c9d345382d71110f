// Hostile code, part 5: defence in depth. Should code ever get out of the isolate, it lands in a worker process
// that Node's permission model and a network namespace of its own still confine (issue 12, item 2). Proven with
// the worker's own command running JavaScript that tries what escaped code would: write a file, read one
// outside the worker's files, start a process or a thread, open a socket to a server of the host.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Executor } from '../src/index.js';
import { workerCommand, workerConfinement } from '../src/sandbox/confine.js';
import { distRoot } from '../src/sandbox/paths.js';

const here = dirname(fileURLToPath(import.meta.url));
const probe = join(here, 'fixtures', 'confined-probe.mjs');

let dir: string;
let server: Server;
let connections = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'automesh-confinement-'));
  server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => server.close(resolve));
});

interface ProbeReport {
  write: string;
  read: string;
  child: string;
  worker: string;
  connect: string;
}

/** Starts the probe exactly as the pool starts a worker and collects what it could do. */
async function runProbe(file: string): Promise<ProbeReport> {
  const { execPath, execArgv } = workerCommand(probe, distRoot, [probe]);
  const child = fork(probe, [], {
    execPath,
    execArgv,
    env: {},
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    return await new Promise<ProbeReport>((resolve, reject) => {
      child.on('message', (message) => {
        if (message === 'ready') {
          child.send({ file, port: (server.address() as AddressInfo).port, outside: fileURLToPath(import.meta.url) });
        } else {
          resolve(message as ProbeReport);
        }
      });
      child.on('exit', (code, signal) =>
        reject(new Error(`the probe exited (${code ?? signal}) without a report: ${stderr}`)),
      );
    });
  } finally {
    child.kill('SIGKILL');
  }
}

describe('the worker process is confined', () => {
  test('this machine allows both confinements (else check warns; see the reasons)', () => {
    const confinement = workerConfinement();
    assert.ok(confinement.permissions.active, confinement.permissions.detail);
    assert.ok(confinement.network.active, confinement.network.detail);
  });

  test('JavaScript in the worker process cannot write, read outside, spawn, start threads or connect', async () => {
    const file = join(dir, 'escaped.txt');
    const report = await runProbe(file);
    assert.deepEqual(report, {
      write: 'ERR_ACCESS_DENIED',
      read: 'ERR_ACCESS_DENIED',
      child: 'ERR_ACCESS_DENIED',
      worker: 'ERR_ACCESS_DENIED',
      connect: 'ENETUNREACH',
    });
    assert.equal(existsSync(file), false, 'the file was written');
    assert.equal(connections, 0, 'the host server was reached');
  });

  test('a real worker reports both confinements from inside, and runs code under them', async () => {
    const executor = new Executor({ workers: 1 });
    try {
      await executor.warm();
      const r = await executor.execute({ code: 'result = 6 * 7' });
      assert.equal(r.output, 42, r.error ?? '');
      const { permissions, network } = executor.confinement;
      assert.deepEqual([permissions.active, network.active], [true, true], `${permissions.detail}; ${network.detail}`);
      assert.match(network.detail, /network namespace/);
    } finally {
      await executor.close();
    }
  });
});
