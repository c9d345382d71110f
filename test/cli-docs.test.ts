// Every flag of every verb is in the verb's --help and in the README's CLI section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCommands } from '../src/cli/main.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function cliSection(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## The CLI\n');
  assert.ok(start >= 0, 'README.md has a "## The CLI" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end).split('\n');
}

test('every flag of every verb is documented in its help and in the README', async () => {
  const lines = cliSection();
  for (const command of await loadCommands()) {
    const flags = Object.keys(command.options);
    assert.ok(flags.length > 0, `${command.name} declares its options`);
    for (const flag of flags) {
      assert.match(
        command.help,
        new RegExp(`--${flag}\\b`),
        `automesh ${command.name} --help does not mention --${flag}`,
      );
      // A row of the README's flag table for this verb (or for "all but init") that names the flag.
      const row = lines.find(
        (line) =>
          line.startsWith('|')
          && line.includes(`\`--${flag}`)
          && (line.startsWith(`| \`${command.name}`)
            || (line.startsWith('| all but `init`') && command.name !== 'init')),
      );
      assert.ok(row, `README.md's CLI section has no row for automesh ${command.name} --${flag}`);
    }
  }
});
