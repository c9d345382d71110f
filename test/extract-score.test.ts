// Scoring blocks: the program beats usage examples, output, definitions alone and the quoted faulty line.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extracted } from './helpers/extract.js';

describe('scoring blocks', () => {
  for (const intro of ['Usage:', 'Output:', 'You can test it like this:', '### Example usage', 'Expected output:']) {
    test(`a block introduced by "${intro}" loses to the program`, () => {
      const reply = `\`\`\`js\nconst total = context.xs.length;\nresult = total;\n\`\`\`\n\n${intro}\n\n\`\`\`js\nresult = 3;\nconsole.log(result);\n\`\`\``;
      assert.equal(extracted(reply).code, 'const total = context.xs.length;\nresult = total;');
    });
  }

  test('a block that sets result beats a longer one that only defines', () => {
    const reply = '```js\nconst a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\n```\n\n```js\nresult = context.n + 1;\n```';
    assert.equal(extracted(reply).code, 'result = context.n + 1;');
  });

  test('a repair reply: the quoted failing line loses to the corrected program', () => {
    const reply = [
      'The bug is on this line:', '', '```js', 'result = context.item.price;', '```', '',
      'Here is the corrected code:', '', '```js', 'const item = context.items[0];', 'result = item ? item.price : null;', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'const item = context.items[0];\nresult = item ? item.price : null;');
  });

  test('top-level return counts as giving the answer', () => {
    const reply = '```js\nconst x = 1;\nconst y = 2;\nconst z = 3;\n```\n\n```js\nreturn context.a * 2;\n```';
    assert.equal(extracted(reply).code, 'return context.a * 2;');
  });
});
