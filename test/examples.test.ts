// Every example in examples/ runs and prints what its README section promises.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

test('examples/sandbox-basics.ts', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/sandbox-basics.ts'], {
    cwd: root,
    timeout: 60_000,
  });
  const lines = stdout.trim().split('\n');
  assert.equal(lines[0], "success { region: 'eu', total: 150 } [ 'got 2 rows' ]");
  assert.match(lines[1] ?? '', /^failure no_result /);
  assert.match(lines[2] ?? '', /^failure runtime TypeError: .*reading 'revenue'.*line 2/);
});
