// The reply as a whole: line endings, reasoning before the answer, a reply that is one inline code span.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
    assert.equal(extracted('<think>\n```js\nresult = 1;\n```\n</think>\n\n```js\nresult = 2;\n```').code, 'result = 2;');
  });
});
