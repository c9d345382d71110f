// `automesh --version` and `--help` load no provider SDK, no esbuild, no isolated-vm, no database driver: the
// verbs load on use, and each provider's SDK on its first call. Seen by recording every module the built CLI's
// process resolves (test/fixtures/record-modules.mjs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliPath = join(root, 'dist', 'src', 'cli', 'main.js');
const recorder = join(root, 'test', 'fixtures', 'record-modules.mjs');

/** Heavy packages that only a verb's work, or a provider's first call, may load. */
const HEAVY = [
  '@anthropic-ai/sdk',
  'openai',
  '@google/genai',
  'isolated-vm',
  'esbuild',
  'better-sqlite3',
  'libsql',
  'proper-lockfile',
];

const packagesIn = (urls: string[]): Set<string> =>
  new Set(
    urls.flatMap((url) => [...url.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1] as string)),
  );

/** Runs node with the recorder preloaded; resolves with its stdout and the URLs it loaded. */
function recorded(args: string[]): Promise<{ code: number; stdout: string; urls: string[] }> {
  const log = join(tempDir('startup'), 'modules.log');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', recorder, ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, RECORD_MODULES: log },
      },
      (err, stdout) => {
        const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, urls });
      },
    );
  });
}

test('automesh --version and --help load no SDK, no esbuild, no isolated-vm', async () => {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run npm run build first (npm test does)`);
  for (const flag of ['--version', '--help', '-v', '-h']) {
    const run = await recorded([cliPath, flag]);
    assert.equal(run.code, 0, `automesh ${flag} exits 0`);
    assert.match(run.stdout, flag.includes('v') ? /^\d+\.\d+\.\d+/ : /Commands:[\s\S]*check[\s\S]*smoketest/);
    // The recorder saw the CLI itself: an empty record would prove nothing.
    assert.ok(
      run.urls.some((url) => url.endsWith('/dist/src/cli/main.js')),
      `the recorder saw automesh ${flag} load`,
    );
    const loaded = [...packagesIn(run.urls)].filter((pkg) => HEAVY.includes(pkg));
    assert.deepEqual(loaded, [], `automesh ${flag} loaded ${loaded.join(', ')}`);
  }
});

test("a provider's SDK loads on its first use, and only that provider's", async () => {
  const script = [
    "import { loadSettings } from './dist/src/config/settings.js';",
    "import { LlmChain } from './dist/src/llm/chain.js';",
    'const settings = loadSettings({ envFile: false, env: { CLAUDE_API_KEY: "k-claude", LLM_ENDPOINT: "http://127.0.0.1:9", '
      + 'AZURE_API_KEY: "k-azure", AZURE_ENDPOINT: "http://127.0.0.1:9", GEMINI_API_KEY: "k-gemini" } });',
    'const chain = new LlmChain(settings);',
    "console.log('built', chain.order.join(','));",
    "await chain.providers.find((p) => p.name === 'claude').prepare();",
    "console.log('prepared');",
  ].join('\n');
  const built = await recorded(['--input-type=module', '-e', script.replace(/await chain[\s\S]*$/, '')]);
  assert.equal(built.code, 0);
  assert.match(built.stdout, /built claude,vllm,azure,gemini/);
  const atBuild = [...packagesIn(built.urls)].filter((pkg) => HEAVY.includes(pkg));
  assert.deepEqual(atBuild, [], `building the chain loaded ${atBuild.join(', ')}`);

  const used = await recorded(['--input-type=module', '-e', script]);
  assert.equal(used.code, 0);
  assert.match(used.stdout, /prepared/);
  const afterUse = packagesIn(used.urls);
  assert.ok(afterUse.has('@anthropic-ai/sdk'), 'preparing the claude provider loads @anthropic-ai/sdk');
  for (const pkg of ['openai', '@google/genai']) assert.ok(!afterUse.has(pkg), `preparing claude loaded ${pkg} too`);
});
