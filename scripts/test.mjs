// Runs the test suite (`npm test`) with its own temporary folder, and fails when the run leaves anything in it:
// every test removes what it creates, also when it fails (test/helpers/temp.ts). Arguments are test files
// (default: every test/*.test.ts).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = process.argv.slice(2);
const tests =
  files.length > 0
    ? files
    : readdirSync(join(root, 'test'))
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => join('test', f));

// Caches of the tools that run the tests, not files of a test: tsx compiles into <tmpdir>/tsx-<uid>.
const TOOL_CACHES = /^tsx-\d+$/;

const runTmp = mkdtempSync(join(tmpdir(), 'automesh-test-run-'));
// Like /tmp: some tests run a child as an unprivileged user, whose tools (tsx's cache) write here too.
chmodSync(runTmp, 0o1777);
let status = 1;
try {
  const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--import', 'tsx', ...tests], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: runTmp, TMP: runTmp, TEMP: runTmp },
  });
  status = run.status ?? 1;
  const left = readdirSync(runTmp).filter((name) => !TOOL_CACHES.test(name));
  if (left.length > 0) {
    console.error(
      `\nThe tests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in their temporary folder (each test must remove what it creates):`,
    );
    for (const name of left) console.error(`  ${name}`);
    status = 1;
  } else {
    console.log(`\ntemporary files: the tests left nothing behind in ${tmpdir()}`);
  }
} finally {
  rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
}
process.exit(status);
