// The reply as a whole: line endings, reasoning before the answer, a reply that is one inline code span.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dropReasoning, normalizeReply, unwrapInlineCode } from '../src/codegen/extract/reply.js';
import { extractCode } from '../src/codegen/extract.js';
import { extracted } from './helpers/extract.js';

describe('the reply as a whole', () => {
  test('CRLF line endings give LF code', () => {
    const r = extracted('Code:\r\n\r\n```js\r\nconst a = 1;\r\nresult = a;\r\n```\r\n');
    assert.equal(r.code, 'const a = 1;\nresult = a;');
  });

  test('a single inline code span', () => {
    assert.equal(extracted('`result = 6 * 7`').code, 'result = 6 * 7');
  });

  test('reasoning that never finished', () => {
    const r = extractCode('<think>\nLet me think about the data.\n```js\nresult = 1\n```\nHmm, but');
    assert.ok(!r.ok && /reasoning/.test(r.reason));
  });

  test('drafts inside <think> are ignored when an answer follows', () => {
    assert.equal(
      extracted('<think>\n```js\nresult = 1;\n```\n</think>\n\n```js\nresult = 2;\n```').code,
      'result = 2;',
    );
  });
});

describe('reply helpers', () => {
  test('normalizeReply: CRLF and lone CR become LF, a leading BOM goes, nothing else changes', () => {
    assert.equal(normalizeReply('\uFEFFa\r\nb\rc\n'), 'a\nb\nc\n');
    assert.equal(normalizeReply('a \uFEFF b\t'), 'a \uFEFF b\t');
  });

  test('dropReasoning: the text after the last closing tag; null for a reply still inside its reasoning', () => {
    assert.equal(dropReasoning('<think>draft</think>answer'), 'answer');
    assert.equal(dropReasoning('opened in the prompt</think>\nanswer'), '\nanswer');
    assert.equal(dropReasoning('<thinking>a</thinking>b</THINK>c'), 'c');
    assert.equal(dropReasoning('  <think>\nstill thinking'), null);
    assert.equal(dropReasoning('no reasoning at all'), 'no reasoning at all');
  });

  test('unwrapInlineCode: only a reply that is one code span, on one line', () => {
    assert.equal(unwrapInlineCode('  `result = 1`\n'), 'result = 1');
    assert.equal(unwrapInlineCode('Use `result = 1` here'), 'Use `result = 1` here');
    assert.equal(unwrapInlineCode('`a`\n`b`'), '`a`\n`b`');
  });
});
