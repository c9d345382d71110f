// Unfenced code: prose around and between code lines is dropped, code-like lines are kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PYTHON_WARNING } from '../src/codegen/extract/messages.js';
import { fromUnfenced } from '../src/codegen/extract/unfenced.js';
import { extracted } from './helpers/extract.js';

describe('unfenced code', () => {
  test('the whole reply is code', () => {
    const code = 'const xs = context.xs;\n\n// largest value\nresult = Math.max(...xs);';
    const r = extracted(code);
    assert.equal(r.code, code);
    assert.equal(r.fenced, false);
    assert.equal(r.blocks, 0);
  });

  test('prose before and after is dropped', () => {
    const r = extracted(
      'Sure! Here is the code:\n\nconst xs = context.xs;\nresult = xs.length;\n\nThis counts the items.\nLet me know if you need more.',
    );
    assert.equal(r.code, 'const xs = context.xs;\nresult = xs.length;');
    assert.match(r.note, /prose/);
  });

  test('a sentence between two code parts is dropped, code-like lines are kept', () => {
    const reply = 'const a = context.a;\nNow we double it:\nconst b = a *\n  2\nresult = b;';
    assert.equal(extracted(reply).code, 'const a = context.a;\nconst b = a *\n  2\nresult = b;');
  });

  test('prose-like lines inside template literals, comments and brackets are kept', () => {
    const code = [
      '/*',
      ' * Builds the greeting.',
      ' * It is polite.',
      ' */',
      'const msg = `Hello there.',
      'This is a greeting.',
      '`;',
      'const opts = {',
      '  Note: true,',
      '};',
      'result = { msg, opts };',
    ].join('\n');
    assert.equal(extracted(`Here it is:\n\n${code}\n\nThanks!`).code, code);
  });

  test('a markdown indented code block loses its 4-space indentation', () => {
    const r = extracted(
      'Here is the code:\n\n    const x = context.n;\n    if (x) {\n      result = x;\n    }\n\nDone.',
    );
    assert.equal(r.code, 'const x = context.n;\nif (x) {\n  result = x;\n}');
  });

  test('step-by-step prose between statements', () => {
    const reply =
      'Let me solve this step by step.\n\nFirst, we filter:\nconst xs = context.xs.filter((x) => x > 0);\nthen we sum:\nresult = xs.length;';
    assert.equal(extracted(reply).code, 'const xs = context.xs.filter((x) => x > 0);\nresult = xs.length;');
  });

  test('code outside fences that only hold output', () => {
    const reply = 'result = context.xs.length;\n\nOutput:\n\n```\n3\n```';
    const r = extracted(reply);
    assert.equal(r.code, 'result = context.xs.length;');
    assert.equal(r.fenced, false);
    assert.equal(r.blocks, 1);
  });

  test('unfenced Python: `def f(x):`', () => {
    const r = extracted('Here you go:\n\ndef f(x):\n    return x + 1\n\nresult = f(2)\n\nThat adds one.');
    assert.equal(r.code, 'def f(x):\n    return x + 1\n\nresult = f(2)');
    assert.equal(r.language, 'python');
    assert.notEqual(r.warning, null);
  });
});

describe('fromUnfenced', () => {
  test('nothing that looks like code: null', () => {
    assert.equal(fromUnfenced('I cannot help with that.\nPlease give me more details.'), null);
    assert.equal(fromUnfenced(''), null);
  });

  test('a line inside an open bracket is kept even when it reads as a sentence', () => {
    const r = fromUnfenced('const words = [\n  Hello there.\n];\nThat is all.');
    assert.equal(r?.code, 'const words = [\n  Hello there.\n];');
    assert.equal(r?.note, 'unfenced code (1 prose line dropped)');
  });

  test('prose that opens a paren does not open one in the scanner', () => {
    assert.equal(fromUnfenced('1) first we count\nresult = context.n;')?.code, 'result = context.n;');
  });

  test('TypeScript is recognized, Python gets its warning', () => {
    assert.equal(fromUnfenced('const n: number = context.n;\nresult = n;')?.language, 'typescript');
    const py = fromUnfenced('import math\nresult = math.sqrt(2)');
    assert.equal(py?.language, 'python');
    assert.equal(py?.warning, PYTHON_WARNING);
    assert.equal(py?.fenced, false);
  });
});
