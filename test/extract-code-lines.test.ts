// Telling a line of code from a line of prose, one trimmed line at a time (src/codegen/extract/code-lines.ts).
import { describe, test } from 'node:test';
import { isJsCodeLine, isProse, isPythonCodeLine } from '../src/codegen/extract/code-lines.js';
import { assertSplits } from './helpers/extract.js';

describe('code lines', () => {
  test('isJsCodeLine: statements, declarations, calls, assignments and continuations, not sentences or markdown', () => {
    const code = [
      'const total = 0;',
      'let { a, b } = context;',
      'async function main() {',
      'if (x > 1) {',
      '} else {',
      'return total;',
      'await sleep(10)',
      'result = xs.length',
      'total += x',
      'console.log(total)',
      '.map((x) => x * 2)',
      '?? fallback',
      '(async () => {',
      '[a, b] = [b, a];',
      'case 1:',
      '// a comment',
      "'use strict';",
    ];
    const notCode = [
      '',
      'let me explain how this works',
      'Note (see above)',
      'This returns the total.',
      '- const x = 1;',
      '1. result = 2;',
      '> return x;',
      '| a | b |',
      '# Heading',
    ];
    assertSplits(isJsCodeLine, code, notCode);
  });

  test('isProse: markdown, capitals, sentence endings and long operator-free phrases; not short or operator lines', () => {
    assertSplits(
      isProse,
      ['## Steps', '* item', 'Here it is', 'then we sum:', 'this counts all the items'],
      ['total', 'a + b', 'x * y * z * w', 'done'],
    );
  });

  test('isPythonCodeLine: keywords, indented lines, assignments, calls and decorators; not prose', () => {
    assertSplits(
      isPythonCodeLine,
      ['def f(x):', '    return x', 'x = 1', 'print(x)', '@cache', ')'],
      ['That adds one.', 'Here you go:', ''],
    );
  });
});
