// What the model is told when the reply holds no usable JavaScript.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ASK,
  JS_ONLY,
  noCodeReason,
  otherLanguageWarning,
  UNFINISHED_REASONING,
} from '../src/codegen/extract/messages.js';
import { extractCode } from '../src/codegen/extract.js';
import { blocksOf, extracted } from './helpers/extract.js';

describe('what the model is told', () => {
  test('another language gets a warning naming it', () => {
    const r = extracted('```sql\nSELECT COUNT(*) FROM users;\n```');
    assert.equal(r.language, 'other');
    assert.match(r.warning ?? '', /SQL/);
    const diff = extracted('```diff\n- result = a\n+ result = b\n```');
    assert.match(diff.warning ?? '', /diff/);
  });

  test('a prose-only reply says what to do', () => {
    const r = extractCode(
      "I'm not able to help with that request.\n\nIf you clarify the data format, I can write the code.",
    );
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.equal(r.reason, 'The reply contained no code. Answer with one ```javascript block that sets `result`.');
  });

  test('only shell commands, only data: the reason says so', () => {
    const shell = extractCode('Run:\n\n```bash\nnode main.js\n```');
    assert.ok(!shell.ok && /shell commands/.test(shell.reason));
    for (const reply of [
      'The answer:\n\n```json\n{"total": 42}\n```',
      '```\n{"total": 42}\n```',
      '```js\n[1, 2, 3]\n```',
    ]) {
      const data = extractCode(reply);
      assert.ok(!data.ok && /data or output/.test(data.reason), reply);
    }
  });
});

describe('messages', () => {
  test('every no-code reason ends by asking for one javascript block that sets result', () => {
    const replies = ['```bash\nls\n```', '```json\n{}\n```', '```js\n```', ''];
    const reasons = [...replies.map((r) => noCodeReason(blocksOf(r))), UNFINISHED_REASONING];
    assert.equal(new Set(reasons).size, reasons.length, 'each case has its own reason');
    for (const reason of reasons) assert.ok(reason.endsWith(ASK), reason);
  });

  test('the reason follows the most telling kind of block: shell over data over empty', () => {
    assert.match(noCodeReason(blocksOf('```js\n```\n```json\n[]\n```\n```sh\nls\n```')), /shell commands/);
    assert.match(noCodeReason(blocksOf('```js\n```\n```json\n[]\n```')), /data or output/);
  });

  test('otherLanguageWarning names known languages, quotes unknown tags, and asks a diff for the whole program', () => {
    assert.equal(otherLanguageWarning('rb'), `This is Ruby, not JavaScript; write JavaScript ${JS_ONLY}.`);
    assert.equal(otherLanguageWarning('zig'), `This is \`zig\` code, not JavaScript; write JavaScript ${JS_ONLY}.`);
    assert.match(otherLanguageWarning('patch'), /whole program in JavaScript/);
  });
});
