// Runs the test suite (`npm test`) with its own temporary folder, and fails when the run leaves anything in it:
// every test removes what it creates, also when it fails (test/helpers/temp.ts). Arguments are test files, run one
// after another. Without arguments every test/*.test.ts runs, in two lanes at once: the light files listed in
// scripts/test-lanes.mjs in one, every other file in the other, one file at a time in each (the machines have two
// cores; no two heavy, timing-bound files ever share them). The light lane's report is printed when it ends.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_LANE } from './test-lanes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = process.argv.slice(2);
const all = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const lanes =
  files.length > 0
    ? [files]
    : [all.filter((f) => !SHARED_LANE.has(f)), all.filter((f) => SHARED_LANE.has(f))].map((lane) =>
        lane.map((f) => join('test', f)),
      );
const unknown = [...SHARED_LANE].filter((f) => !all.includes(f));
if (files.length === 0 && unknown.length > 0) {
  console.error(`scripts/test-lanes.mjs lists files that are not in test/: ${unknown.join(', ')}; remove them.`);
  process.exit(1);
}

// A file whose tests have all ended leaves (an open handle after a failure must not hold the run for ever), and no
// single test may take more than 5 minutes.
const TEST_FLAGS = ['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=300000', '--import', 'tsx'];

/** One lane: its files one at a time; the first lane prints as it goes, the others when they end. */
function runLane(tests, env, live) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...TEST_FLAGS, ...tests], {
      cwd: root,
      stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'],
      env,
    });
    const chunks = [];
    child.stdout?.on('data', (chunk) => chunks.push(chunk));
    child.stderr?.on('data', (chunk) => chunks.push(chunk));
    child.on('close', (code) => resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString() }));
  });
}

// Caches of the tools that run the tests, not files of a test: tsx compiles into <tmpdir>/tsx-<uid>.
const TOOL_CACHES = /^tsx-\d+$/;

const runTmp = mkdtempSync(join(tmpdir(), 'automesh-test-run-'));
// Like /tmp: some tests run a child as an unprivileged user, whose tools (tsx's cache) write here too.
chmodSync(runTmp, 0o1777);
let status = 1;
try {
  const env = { ...process.env, TMPDIR: runTmp, TMP: runTmp, TEMP: runTmp };
  const runs = await Promise.all(lanes.map((tests, i) => runLane(tests, env, i === 0)));
  runs.slice(1).forEach((run, i) => {
    console.log(`\n# ---- lane ${i + 2} (light files, run beside the first lane: scripts/test-lanes.mjs) ----`);
    process.stdout.write(run.output);
  });
  status = runs.every((run) => run.code === 0) ? 0 : 1;
  if (runs.length > 1) console.log(`\n# lanes: ${runs.map((run, i) => `lane ${i + 1} exit ${run.code}`).join(', ')}`);
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
