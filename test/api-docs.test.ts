// The docs describe this repository: no path that leads out of it, every public method of the objects users hold
// in docs/API.md, every mesh event and envelope error category named.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoAgent, CodeRegistry, ERROR_CATEGORY_NAMES, Mesh } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = ['README.md', 'docs/ARCHITECTURE.md', 'docs/API.md'];
const api = readFileSync(join(root, 'docs/API.md'), 'utf8');

function publicMethods(proto: object): string[] {
  return Object.getOwnPropertyNames(proto).filter((name) => {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    return name !== 'constructor' && typeof descriptor?.value === 'function' && !name.startsWith('_');
  });
}

test('no document points to a file outside the repository', () => {
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    assert.doesNotMatch(text, /\.\.\/shared|DESIGN\.md/, `${doc} points outside the repository`);
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue;
      const path = resolve(dirname(join(root, doc)), target as string);
      assert.ok(path.startsWith(root), `${doc} links to ${target}, outside the repository`);
      assert.ok(existsSync(path), `${doc} links to ${target}, which does not exist`);
    }
  }
});

/** Methods TypeScript marks private or @internal in a source file (they are on the prototype all the same). */
function hiddenMethods(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const privates = [...text.matchAll(/^\s+private (?:async )?(\w+)[<(]/gm)].map((m) => m[1] as string);
  const internals = [...text.matchAll(/@internal(?:[^*]|\*(?!\/))*\*\/\s+(?:async )?(\w+)[<(]/g)].map(
    (m) => m[1] as string,
  );
  return [...privates, ...internals];
}

test('docs/API.md documents every public method of the registry, the mesh and agents', () => {
  const internal = new Set([
    ...hiddenMethods('src/registry/code-registry.ts'),
    ...hiddenMethods('src/mesh/mesh.ts'),
    ...hiddenMethods('src/agent/auto-agent.ts'),
  ]);
  const methods = [
    ...publicMethods(CodeRegistry.prototype),
    ...publicMethods(Mesh.prototype),
    ...publicMethods(AutoAgent.prototype),
  ].filter((name) => !internal.has(name));
  for (const name of methods) assert.match(api, new RegExp(`\\b${name}\\(`), `docs/API.md does not document ${name}()`);
  for (const name of ['mode', 'config', 'providers'])
    assert.match(api, new RegExp(`\`${name}\``), `Mesh option ${name}`);
});

test('docs/API.md names every mesh event and the README every error category', () => {
  const events = readFileSync(join(root, 'src/mesh/events.ts'), 'utf8');
  const names = [...events.matchAll(/^\s+'([a-z]+(?::[a-z]+)?)': /gm)].map((m) => m[1] as string);
  assert.ok(names.length >= 10, 'the event list was read');
  for (const name of names) assert.match(api, new RegExp(`\`${name}\``), `docs/API.md does not name event ${name}`);
  const categories = ERROR_CATEGORY_NAMES;
  assert.ok(categories.length >= 10, 'the category list was read');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const c of categories) assert.match(readme, new RegExp(`\`${c}\``), `README.md does not name category ${c}`);
});
