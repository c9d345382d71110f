// mesh.start() loads Node's fetch (undici, which the provider SDKs call) while the sandbox warms, so the first task's
// model call does not pay ~45 ms for it. Seen in a fresh process, where nothing else has loaded it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = pathToFileURL(join(root, 'dist', 'src', 'index.js')).href;

const SCRIPT = `
const { Mesh, defineAgent } = await import(process.env.ENTRY);
const loaded = () => process.moduleLoadList.some((m) => m.includes('undici'));
const mesh = new Mesh({ config: { LLM_PROVIDER_ORDER: 'vllm', LLM_ENDPOINT: 'http://127.0.0.1:9', LOG_DIRECTORY: process.env.LOGS } });
mesh.add(defineAgent({ role: 'counter', capabilities: ['arithmetic'], systemPrompt: 'You count.' }));
const before = loaded();
await mesh.start();
const after = loaded();
await mesh.stop();
console.log(JSON.stringify({ before, after }));
`;

test('after mesh.start(), the HTTP client the SDKs use is loaded; before it, nothing had loaded it', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT],
      {
        cwd: root,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', ENTRY: entry, LOGS: join(tempDir('start-fetch'), 'logs') },
      },
      (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
    );
  });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) as string), { before: false, after: true });
});
