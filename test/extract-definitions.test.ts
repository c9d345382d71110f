// Definitions from other blocks: helpers the program uses are prepended, transitively, latest first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withDefinitions } from '../src/codegen/extract/definitions.js';
import { blocksOf, extracted } from './helpers/extract.js';

describe('definitions from other blocks', () => {
  test('a helper defined in an earlier block is prepended, in reply order', () => {
    const reply = [
      'A helper:',
      '',
      '```js',
      'const square = (n) => n * n;',
      '```',
      '',
      'Another one:',
      '',
      '```js',
      'function sumOf(xs, f) {',
      '  return xs.reduce((a, x) => a + f(x), 0);',
      '}',
      '```',
      '',
      'Now the answer:',
      '',
      '```js',
      'result = sumOf(context.xs, square);',
      '```',
    ].join('\n');
    const r = extracted(reply);
    assert.equal(
      r.code,
      [
        'const square = (n) => n * n;',
        '',
        'function sumOf(xs, f) {',
        '  return xs.reduce((a, x) => a + f(x), 0);',
        '}',
        '',
        'result = sumOf(context.xs, square);',
      ].join('\n'),
    );
    assert.match(r.note, /prepended blocks 1, 2/);
  });

  test('transitively: a helper of a helper', () => {
    const reply = [
      '```js',
      'const RATE = 0.2;',
      '```',
      '```js',
      'class Taxer {',
      '  tax(x) { return x * RATE; }',
      '}',
      '```',
      '```js',
      'result = new Taxer().tax(context.amount);',
      '```',
    ].join('\n');
    assert.equal(
      extracted(reply).code,
      'const RATE = 0.2;\n\nclass Taxer {\n  tax(x) { return x * RATE; }\n}\n\nresult = new Taxer().tax(context.amount);',
    );
  });

  test('blocks that do not define anything the program uses are left out', () => {
    const reply = '```js\nconst unrelated = 1;\n```\n\n```js\nconst total = context.n;\nresult = total;\n```';
    assert.equal(extracted(reply).code, 'const total = context.n;\nresult = total;');
  });

  test('a block that would redeclare a name of the program is left out', () => {
    const reply = [
      '```js',
      'const rows = [];',
      'function helper(x) { return x; }',
      '```',
      '',
      'Final version:',
      '',
      '```js',
      'const rows = context.rows;',
      'result = rows.map(helper);',
      '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'const rows = context.rows;\nresult = rows.map(helper);');
  });

  test('`result` and `context` declared in a usage block are not dependencies', () => {
    const reply = [
      '```js',
      'result = context.items.filter((i) => i.ok).length;',
      '```',
      '',
      'You can test it with:',
      '',
      '```js',
      'const context = { items: [{ ok: true }] };',
      'let result;',
      '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'result = context.items.filter((i) => i.ok).length;');
  });

  test('the latest definition wins when a helper was revised', () => {
    const reply = [
      '```js',
      'function clean(s) { return s.trim(); }',
      '```',
      '',
      'Better, also lower-case it:',
      '',
      '```js',
      'function clean(s) { return s.trim().toLowerCase(); }',
      '```',
      '',
      'Then:',
      '',
      '```js',
      'result = context.names.map(clean);',
      '```',
    ].join('\n');
    assert.equal(
      extracted(reply).code,
      'function clean(s) { return s.trim().toLowerCase(); }\n\nresult = context.names.map(clean);',
    );
  });
});

describe('withDefinitions', () => {
  /** The codes of the blocks withDefinitions keeps for the block at `chosen` (0-based) of the reply's blocks. */
  function kept(reply: string, chosen: number): string[] {
    const blocks = blocksOf(reply);
    const block = blocks[chosen];
    assert.ok(block, `no block ${chosen}`);
    return withDefinitions(block, blocks).map((b) => b.code);
  }

  test('destructured bindings count by the names they bind, not the keys', () => {
    const reply = '```js\nconst { a: rate, b } = context.cfg;\n```\n```js\nresult = rate * 2;\n```';
    assert.deepEqual(kept(reply, 1), ['const { a: rate, b } = context.cfg;', 'result = rate * 2;']);
  });

  test('a property name is not a mention: `x.helper` does not pull in a block defining helper', () => {
    const reply = '```js\nfunction helper() { return 1; }\n```\n```js\nresult = context.helper;\n```';
    assert.deepEqual(kept(reply, 1), ['result = context.helper;']);
  });

  test('a block that returns at top level is never prepended, even when it defines what is used', () => {
    const reply = '```js\nconst f = (x) => x;\nreturn f(1);\n```\n```js\nresult = f(2);\n```';
    assert.deepEqual(kept(reply, 1), ['result = f(2);']);
  });

  test('names inside strings and comments are not mentions', () => {
    const reply = '```js\nconst secret = 1;\n```\n```js\n// uses secret\nresult = "secret";\n```';
    assert.deepEqual(kept(reply, 1), ['// uses secret\nresult = "secret";']);
  });
});
