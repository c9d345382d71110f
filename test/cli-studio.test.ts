// `automesh studio` as a real process: on a log directory (the page and the API at the printed URL, stopped by
// Ctrl-C), on a NATS mesh (the live catalog's agents with their node, workflows from the KV buckets), and the
// refusals: a non-loopback address without SERVE_TOKEN, a --nats that is no URL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoAgent, Mesh } from '../src/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env))
    if (name.startsWith('NATS_') || name.startsWith('LLM_') || name === 'SERVE_TOKEN') delete env[name];
  return { ...env, ...extra };
}

/** Starts the CLI; `url()` resolves with the printed studio URL. */
function startStudio(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [cli, 'studio', ...args], {
    cwd: tempDir('cli-studio-cwd'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /Studio at (http:\/\/\S+)/.exec(out);
      if (found) resolve(found[1] as string);
    });
    void exited.then((code) => reject(new Error(`studio exited (${code}) before it listened: ${out}${err}`)));
  });
  return { child, exited, url, out: () => out, err: () => err };
}

test('on a log directory: the page and the API at the printed URL; Ctrl-C stops it with exit 0', async () => {
  const logs = tempDir('cli-studio-logs');
  const studio = startStudio(['--port', '0', '--log-dir', logs], cleanEnv());
  const url = await studio.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(studio.out(), /reading .*automesh\.db/);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /automesh studio/);
  const overview = (await (await fetch(`${url}api/overview`)).json()) as { location: string; tokenRequired: boolean };
  assert.equal(overview.location, join(logs, 'automesh.db'));
  assert.equal(overview.tokenRequired, false);
  assert.deepEqual(await (await fetch(`${url}api/workflows`)).json(), { workflows: [], damaged: [] });
  studio.child.kill('SIGINT');
  assert.equal(await studio.exited, 0);
  assert.match(studio.out(), /Studio stopped\./);
});

test('a non-loopback address without SERVE_TOKEN is refused; with it the API needs the token', async () => {
  const refused = startStudio(['--port', '0', '--host', '0.0.0.0'], cleanEnv());
  await assert.rejects(refused.url, /exited \(1\)/);
  assert.match(refused.err(), /Refusing to serve the studio on 0\.0\.0\.0 without SERVE_TOKEN/);
  assert.match(refused.err(), /hint: set SERVE_TOKEN/);
  const guarded = startStudio(['--port', '0', '--host', '0.0.0.0'], cleanEnv({ SERVE_TOKEN: 'a-long-studio-token' }));
  const port = new URL(await guarded.url).port;
  assert.equal((await fetch(`http://127.0.0.1:${port}/api/overview`)).status, 401);
  const ok = await fetch(`http://127.0.0.1:${port}/api/overview`, {
    headers: { authorization: 'Bearer a-long-studio-token' },
  });
  assert.equal(ok.status, 200);
  guarded.child.kill('SIGINT');
  assert.equal(await guarded.exited, 0);
  const bad = startStudio(['--port', '0', '--nats', 'localhost:4222'], cleanEnv());
  await assert.rejects(bad.url, /exited \(1\)/);
  assert.match(bad.err(), /--nats must be a NATS URL such as nats:\/\/127\.0\.0\.1:4222; got "localhost:4222"/);
});

class Calculator extends AutoAgent {
  static override role = 'calculator';
  static override description = 'Computes.';
  static override systemPrompt = 'Store the answer in `result`.';
}

describe('on a NATS mesh', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let nats: NatsServer;
  let mesh: Mesh;
  before(async () => {
    nats = await startNatsServer();
    mesh = new Mesh({
      config: {
        NATS_URL: nats.url,
        NODE_NAME: 'calc-node',
        LOG_DIRECTORY: tempDir('cli-studio-node'),
        LLM_PROVIDER_ORDER: 'vllm',
        LLM_ENDPOINT: 'http://127.0.0.1:9',
        LLM_MODEL: 'qwen2.5-coder-32b-instruct',
        SANDBOX_WORKERS: 1,
      },
    }).add(Calculator);
    await mesh.start();
  });
  after(async () => {
    await mesh?.stop();
    await nats?.stop();
  });

  test('the agents come from the live catalog with their node; workflows from the KV buckets', async () => {
    const studio = startStudio(
      ['--port', '0', '--nats', nats.url, '--log-dir', tempDir('cli-studio-logs')],
      cleanEnv(),
    );
    const url = await studio.url;
    assert.match(studio.out(), /automesh-workflows on nats:/);
    const { agents } = (await (await fetch(`${url}api/agents`)).json()) as {
      agents: Array<{ name: string; node: string | null; description: string }>;
    };
    const calculator = agents.find((a) => a.name === 'calculator');
    assert.ok(calculator, `agents: ${JSON.stringify(agents)}`);
    assert.match(String(calculator.node), /calc-node/);
    assert.equal(calculator.description, 'Computes.');
    assert.deepEqual(await (await fetch(`${url}api/workflows`)).json(), { workflows: [], damaged: [] });
    studio.child.kill('SIGINT');
    assert.equal(await studio.exited, 0);
  });
});
