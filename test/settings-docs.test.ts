// .env.example and the README document every setting the code reads, and nothing it does not.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SETTING_ALIASES, settingsSchema } from '../src/config/settings.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const names = Object.keys(settingsSchema.shape);

test('.env.example names every setting and alias', () => {
  const text = readFileSync(join(root, '.env.example'), 'utf8');
  const documented = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  for (const name of names) assert.ok(documented.has(name), `.env.example does not document ${name}`);
  for (const aliases of Object.values(SETTING_ALIASES)) {
    for (const alias of aliases ?? [])
      assert.match(text, new RegExp(`\\b${alias}\\b`), `.env.example does not name ${alias}`);
  }
  for (const name of documented) assert.ok(names.includes(name as string), `.env.example documents unknown ${name}`);
});

test('the README configuration table names every setting', () => {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  for (const name of names) assert.match(text, new RegExp(`\`${name}\``), `README.md does not document ${name}`);
});
