// Language detection: TypeScript from annotations, not from colons in plain JavaScript; modules kept as written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extracted } from './helpers/extract.js';

describe('languages', () => {
  test('TypeScript is detected from annotations, interfaces, casts and generics', () => {
    for (const code of [
      'const n: number = context.n;\nresult = n;',
      'interface P { x: number }\nresult = (context.p as P).x;',
      'function f(a: string): string { return a; }\nresult = f(context.s);',
      'const m = new Map<string, number>();\nresult = m.size;',
      'type Row = { id: string };\nresult = (context.rows as Row[]).length;',
    ]) {
      assert.equal(extracted('```js\n' + code + '\n```').language, 'typescript', code);
    }
  });

  test('plain JavaScript with colons in objects, ternaries and strings is not TypeScript', () => {
    for (const code of [
      'const o = { a: 1, b: Math.max(1, 2) };\nresult = o;',
      'result = context.ok ? "yes: done" : "no";',
      'const label = "x as String"; // type: string\nresult = label;',
      'result = context.items.map((i) => ({ name: i.name, total: i.qty * i.price }));',
    ]) {
      assert.equal(extracted('```js\n' + code + '\n```').language, 'javascript', code);
    }
  });

  test('import, export and module.exports are kept as written, with no warning', () => {
    for (const code of ["import _ from 'lodash';\nresult = _.sum(context.xs);", 'export default function main() {}', 'module.exports = 1;']) {
      const r = extracted('```js\n' + code + '\n```');
      assert.equal(r.code, code);
      assert.equal(r.warning, null);
    }
  });
});
