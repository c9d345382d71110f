// `automesh agents` and `automesh call` as real processes against a real nats-server, with the multi-process
// example's provider (examples/multi-process/provider.ts) serving a function agent, a streamer and an AutoAgent.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import { waitFor } from './helpers/mesh-processes.js';
import { tempDir } from './helpers/temp.js';
import { LlmServer } from './llm-server/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const execFileAsync = promisify(execFile);

/** Runs the CLI in an empty folder (no .env); never throws: the exit code is part of the result. */
async function automesh(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], {
      cwd: tempDir('cli-agents-call'),
      env,
      timeout: 30_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: failed.stdout ?? '', err: failed.stderr ?? '' };
  }
}

/** The environment without any NATS or LLM setting of the developer's own. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (name.startsWith('NATS_') || name.startsWith('LLM_')) delete env[name];
  return { ...env, ...extra };
}

describe('automesh agents and call on a mesh', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let nats: NatsServer;
  let llm: LlmServer;
  let provider: ChildProcess;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    nats = await startNatsServer();
    llm = await LlmServer.start();
    env = cleanEnv({ NATS_URL: nats.url });
    provider = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/multi-process/provider.ts')], {
      cwd: root,
      env: cleanEnv({
        NATS_URL: nats.url,
        NODE_NAME: 'provider-node',
        LLM_PROVIDER_ORDER: 'vllm',
        LLM_ENDPOINT: llm.url,
        LLM_MODEL: 'qwen2.5-coder-32b-instruct',
        LOG_DIRECTORY: tempDir('cli-provider'),
        SANDBOX_WORKERS: '1',
      }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    provider.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor(async () => out.includes('provider ready'), 'the provider', 30_000);
  });

  after(async () => {
    const exited = new Promise((resolve) => provider.once('exit', resolve));
    if (provider.exitCode === null) provider.kill('SIGTERM');
    await exited;
    await llm.close();
    await nats.stop();
  });

  test('agents lists the catalog with each agent shape and node; --channel, --tag and --json select and shape it', async () => {
    const [all, nlp, tagged] = await Promise.all([
      automesh(['agents'], env),
      automesh(['agents', '--channel', 'nlp', '--json'], env),
      automesh(['agents', '--tag', 'math', '--json'], env),
    ]);
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /^analyst\s+responder\s+provider-node\s+analysis,math\s+Computes numbers/m);
    assert.match(all.out, /^nlp\.summarizer\s+responder\s+provider-node\s+nlp,summary\s+/m);
    assert.match(all.out, /^nlp\.words\s+streamer\s+provider-node\s+nlp\s+/m);
    assert.match(all.out, /3 agent\(s\) on nats:\/\/127\.0\.0\.1:\d+/);

    assert.equal(nlp.code, 0, nlp.err);
    const listed = JSON.parse(nlp.out) as Array<{ name: string; shape: string; node: string; streaming: boolean }>;
    assert.deepEqual(listed.map((a) => [a.name, a.shape, a.node, a.streaming]).sort(), [
      ['nlp.summarizer', 'responder', 'provider-node', false],
      ['nlp.words', 'streamer', 'provider-node', true],
    ]);
    assert.deepEqual(
      (JSON.parse(tagged.out) as Array<{ name: string }>).map((a) => a.name),
      ['analyst'],
    );
  });

  test('call answers with the reply; --stream prints every chunk in order', async () => {
    const called = await automesh(
      ['call', 'nlp.summarizer', '{"text": "one two three four five", "maxWords": 2}'],
      env,
    );
    assert.equal(called.code, 0, called.err);
    assert.deepEqual(JSON.parse(called.out), { summary: 'one two …', words: 2 });

    const streamed = await automesh(['call', 'nlp.words', '{"text": "alpha beta gamma"}', '--stream', '--json'], env);
    assert.equal(streamed.code, 0, streamed.err);
    assert.deepEqual(
      streamed.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
      [
        { index: 0, word: 'alpha' },
        { index: 1, word: 'beta' },
        { index: 2, word: 'gamma' },
      ],
    );
  });

  test('call failures print the MeshError code, its message and what to do', async () => {
    const [missing, invalid, mismatch, timedOut] = await Promise.all([
      automesh(['call', 'nlp.translator', '{"text": "hi"}'], env),
      automesh(['call', 'nlp.summarizer', '{"text": 7}'], env),
      automesh(['call', 'nlp.words', '{"text": "a b"}'], env),
      automesh(['call', 'nlp.summarizer', '{"text": "x"}', '--timeout', 'soon'], env),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /error: not_found: .*nlp\.translator/);
    assert.match(missing.err, /hint: `automesh agents` lists who serves what/);

    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /error: invalid_input: /);
    assert.match(invalid.err, /- text: Input should be a valid string/);

    assert.equal(mismatch.code, 1);
    assert.match(mismatch.err, /error: invocation_mismatch: /);
    assert.match(mismatch.err, /automesh call --stream/);

    assert.equal(timedOut.code, 1);
    assert.match(timedOut.err, /--timeout must be a number of seconds above 0; got "soon"/);
  });

  test('bad JSON input is a usage error naming the problem, before any connection', async () => {
    const bad = await automesh(['call', 'nlp.summarizer', "{text: 'hi'}"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /error: the input is not valid JSON \(.*position 1.*\): "\{text: 'hi'\}"/);
    assert.match(bad.err, /hint: quote the whole JSON for the shell/);
  });

  test('without NATS_URL, agents says the in-process mesh of a fresh process is empty and how to reach NATS', async () => {
    const noNats = cleanEnv({});
    const [listed, json, called] = await Promise.all([
      automesh(['agents'], noNats),
      automesh(['agents', '--json'], noNats),
      automesh(['call', 'nlp.summarizer', '{"text": "x"}'], noNats),
    ]);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /in-process mesh of a fresh process is empty/);
    assert.match(listed.out, /automesh mesh up/);
    assert.match(listed.out, /NATS_URL=nats:\/\/127\.0\.0\.1:4222/);
    assert.deepEqual(JSON.parse(json.out), []);
    assert.equal(called.code, 1);
    assert.match(called.err, /NATS_URL is not set/);
    assert.match(called.err, /automesh mesh up/);
  });

  test('an unreachable NATS_URL fails with the URL and what to do', async () => {
    const down = await automesh(['agents'], cleanEnv({ NATS_URL: 'nats://127.0.0.1:1' }));
    assert.equal(down.code, 1);
    assert.match(down.err, /error: .*Cannot connect to the NATS server at nats:\/\/127\.0\.0\.1:1/);
    assert.match(down.err, /automesh mesh up/);
  });
});
