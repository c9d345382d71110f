// Scoring blocks: the program beats usage examples, output, definitions alone and the quoted faulty line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { score } from '../src/codegen/extract/score.js';
import { blocksOf, extracted } from './helpers/extract.js';

describe('scoring blocks', () => {
  for (const intro of ['Usage:', 'Output:', 'You can test it like this:', '### Example usage', 'Expected output:']) {
    test(`a block introduced by "${intro}" loses to the program`, () => {
      const reply = `\`\`\`js\nconst total = context.xs.length;\nresult = total;\n\`\`\`\n\n${intro}\n\n\`\`\`js\nresult = 3;\nconsole.log(result);\n\`\`\``;
      assert.equal(extracted(reply).code, 'const total = context.xs.length;\nresult = total;');
    });
  }

  test('a block that sets result beats a longer one that only defines', () => {
    const reply =
      '```js\nconst a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\n```\n\n```js\nresult = context.n + 1;\n```';
    assert.equal(extracted(reply).code, 'result = context.n + 1;');
  });

  test('a repair reply: the quoted failing line loses to the corrected program', () => {
    const reply = [
      'The bug is on this line:',
      '',
      '```js',
      'result = context.item.price;',
      '```',
      '',
      'Here is the corrected code:',
      '',
      '```js',
      'const item = context.items[0];',
      'result = item ? item.price : null;',
      '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'const item = context.items[0];\nresult = item ? item.price : null;');
  });

  test('top-level return counts as giving the answer', () => {
    const reply = '```js\nconst x = 1;\nconst y = 2;\nconst z = 3;\n```\n\n```js\nreturn context.a * 2;\n```';
    assert.equal(extracted(reply).code, 'return context.a * 2;');
  });
});

describe('score', () => {
  /** The score and the reasons of the only block of a reply. */
  function scored(reply: string): { s: number; why: string[] } {
    const [block] = blocksOf(reply);
    assert.ok(block, 'no block');
    const why: string[] = [];
    return { s: score(block, why), why };
  }

  test('setting result at top level outweighs assigning it inside a block', () => {
    const top = scored('```js\nresult = 1;\n```');
    const inner = scored('```js\nif (ok) {\n  result = 1;\n}\n```');
    assert.deepEqual(top.why, ['sets result']);
    assert.deepEqual(inner.why, ['assigns result']);
    assert.ok(top.s > inner.s, `${top.s} <= ${inner.s}`);
  });

  test('`result` in a string or a comment does not count', () => {
    assert.deepEqual(scored('```js\n// result = 1\nconsole.log("result = 2");\n```').why, ['only console calls']);
  });

  test('the intro moves the score: usage lowest, faulty lower, fixed higher', () => {
    const code = '```js\nresult = context.n;\n```';
    const plain = scored(code).s;
    const usage = scored(`Example usage:\n${code}`);
    const faulty = scored(`The original code:\n${code}`);
    const fixed = scored(`The corrected version:\n${code}`);
    assert.deepEqual(usage.why, ['sets result', 'introduced as usage/output']);
    assert.deepEqual(faulty.why, ['sets result', 'introduced as the faulty code']);
    assert.deepEqual(fixed.why, ['sets result', 'introduced as the fixed/final version']);
    assert.ok(
      usage.s < faulty.s && faulty.s < plain && plain < fixed.s,
      JSON.stringify({ usage, faulty, plain, fixed }),
    );
  });

  test('using context or await, and length up to 30 lines, add a little', () => {
    assert.ok(scored('```js\nconst a = context.a;\n```').s > scored('```js\nconst a = 1;\n```').s);
    assert.ok(scored('```js\nconst a = await f();\n```').s > scored('```js\nconst a = f();\n```').s);
    const lines = (n: number): string => `\`\`\`js\n${'x++;\n'.repeat(n)}\`\`\``;
    assert.ok(scored(lines(20)).s > scored(lines(10)).s);
    assert.equal(scored(lines(40)).s, scored(lines(30)).s);
  });
});
