// Tests remove what they create in the temporary folder, also when they fail: the helper test/helpers/temp.ts,
// run on a test file whose tests fail, with a temporary folder of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('failing tests leave no temporary folder behind', () => {
  const own = mkdtempSync(join(tmpdir(), 'automesh-cleanup-check-'));
  // Without NODE_TEST_CONTEXT (set for the files this runner runs) the child is a test run of its own.
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: own, TMP: own, TEMP: own };
  delete env.NODE_TEST_CONTEXT;
  try {
    const run = spawnSync(
      process.execPath,
      ['--test', '--import', 'tsx', join('test', 'fixtures', 'temp-dirs-failing.ts')],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env,
      },
    );
    assert.notEqual(run.status, 0, "the fixture's tests fail");
    assert.match(run.stdout, /# fail 2/, run.stdout);
    const left = readdirSync(own).filter((name) => name.startsWith('automesh-'));
    assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
