// Whitespace helpers of reply extraction (src/codegen/extract/text.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dedent, dedentAll, lastLines, trimBlankLines } from '../src/codegen/extract/text.js';

describe('text helpers', () => {
  test('dedent removes at most the given width of spaces and tabs, never other characters', () => {
    assert.equal(dedent('    x', 2), '  x');
    assert.equal(dedent('\t x', 4), 'x');
    assert.equal(dedent(' x', 4), 'x');
    assert.equal(dedent('x', 4), 'x');
  });

  test('dedentAll removes the indentation common to the non-blank lines', () => {
    assert.equal(dedentAll('    a\n\n      b\n    c'), 'a\n\n  b\nc');
    assert.equal(dedentAll('a\n  b'), 'a\n  b');
  });

  test('trimBlankLines drops blank lines before the code and trailing white space, keeps first-line indentation', () => {
    assert.equal(trimBlankLines('\n  \n  x = 1;\n\n  \n'), '  x = 1;');
    assert.equal(trimBlankLines(''), '');
  });

  test('lastLines keeps the last non-blank lines, in order', () => {
    assert.equal(lastLines(['a', '', 'b', '  ', 'c', ''], 2), 'b\nc');
    assert.equal(lastLines(['', ''], 2), '');
  });
});
