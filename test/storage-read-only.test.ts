// A LOG_DIRECTORY made read-only mid-run: the open database keeps every write (nothing lost, nothing stalls), and a
// process that opens it afterwards fails its first write at once with `unavailable` instead of retrying for a
// minute as the file store's locks did. Runs as an unprivileged user in its own process (root ignores permissions).
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from './helpers/run-script.js';
import { tempDir } from './helpers/temp.js';
import { asNobody, nobodyCannotReachProject } from './helpers/unprivileged.js';

const here = dirname(fileURLToPath(import.meta.url));

test('a LOG_DIRECTORY made read-only mid-run loses nothing and fails the next opener fast', {
  skip: nobodyCannotReachProject(),
}, async () => {
  const base = tempDir('storage-read-only');
  // The unprivileged user creates (and so owns) the log directory inside.
  chmodSync(base, 0o777);
  const dir = join(base, 'logs');
  const run = await runScript(join(here, 'fixtures', 'read-only-storage.ts'), {
    env: { ...process.env, READ_ONLY_TEST_DIR: dir },
    cwd: join(here, '..'),
    ...asNobody,
  });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as {
    savedWhileOpen: boolean;
    reopenedReads: string[];
    failedCode: string | null;
    failedMessage: string;
    failedMs: number;
  };
  assert.equal(report.savedWhileOpen, true, 'the open database kept the write');
  assert.deepEqual(report.reopenedReads, ['before', 'while-open'], 'nothing lost, still readable');
  assert.equal(report.failedCode, 'unavailable');
  assert.match(
    report.failedMessage,
    /cannot save result after in .*automesh\.db: the file or its directory is not writable/,
  );
  assert.ok(report.failedMs < 1000, `the refused write took ${report.failedMs.toFixed(0)} ms`);
});
