// Language detection: TypeScript from annotations, not from colons in plain JavaScript; modules kept as written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  JS_ONLY_LINE,
  looksLikeJson,
  looksLikePython,
  looksLikeShell,
  looksLikeTypeScript,
} from '../src/codegen/extract/language.js';
import { strip } from '../src/codegen/extract/scan.js';
import { assertSplits, extracted } from './helpers/extract.js';

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
    for (const code of [
      "import _ from 'lodash';\nresult = _.sum(context.xs);",
      'export default function main() {}',
      'module.exports = 1;',
    ]) {
      const r = extracted('```js\n' + code + '\n```');
      assert.equal(r.code, code);
      assert.equal(r.warning, null);
    }
  });
});

describe('language detectors', () => {
  test('looksLikePython: Python-only lines must at least match the JavaScript-only ones', () => {
    assertSplits(
      looksLikePython,
      ['import numpy as np\nprint(np.pi)', 'for x in xs:\n    total += x'],
      ['const xs = [];\nfor (const x of xs) {\n}', 'if x:\nconst a = 1;\nconst b = 2;'],
    );
  });

  test('looksLikeShell: every non-comment line is a command', () => {
    assertSplits(
      looksLikeShell,
      ['# install\nnpm install lodash\nnode main.js', '$ ls -la'],
      ['npm install\nresult = 1;', '# only a comment'],
    );
  });

  test('looksLikeJson: an object or array that parses', () => {
    assertSplits(looksLikeJson, [' {"a": [1, 2]} ', '[1, 2, 3]'], ['{ a: 1 }', '"text"']);
  });

  test('looksLikeTypeScript: on stripped code, a type in a string or comment does not count', () => {
    const typed = (code: string): boolean => looksLikeTypeScript(strip(code));
    assertSplits(
      typed,
      ['let n: number = 1;'],
      ['const s = "let n: number = 1";', '// function f(a: string): string {}'],
    );
  });

  test('JS_ONLY_LINE: statement endings, declarations, arrows and closing braces', () => {
    const jsOnly = (line: string): boolean => JS_ONLY_LINE.test(line);
    assertSplits(jsOnly, ['x = 1;', 'const a = 1', 'xs.map((x) => x)', '}'], ['def f(x):', 'print(x)', 'x = 1']);
  });
});
