// What a fenced block holds: the tag proposes, the content decides.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../src/codegen/extract/classify.js';
import { otherLanguageWarning } from '../src/codegen/extract/messages.js';
import { extracted } from './helpers/extract.js';

describe('classifying blocks', () => {
  test('Python under a js tag, and an untagged Python fence, are Python', () => {
    assert.equal(extracted('```js\nimport math\nresult = math.sqrt(2)\n```').language, 'python');
    assert.equal(extracted('```\nfor x in items:\n    print(x)\n```').language, 'python');
  });

  test('JavaScript under a python tag is JavaScript', () => {
    const r = extracted('```python\nconst xs = context.xs;\nresult = xs.map((x) => x * 2);\n```');
    assert.equal(r.language, 'javascript');
    assert.equal(r.warning, null);
  });
});

describe('classify', () => {
  /** Each case: tag, code, what the block holds. */
  function classifies(cases: Array<[string, string, string]>): void {
    for (const [tag, code, kind] of cases) assert.equal(classify(tag, code), kind, `${tag}: ${code}`);
  }

  test('an empty block is empty, whatever its tag', () => {
    assert.equal(classify('js', ''), 'empty');
  });

  test('a known tag decides for other languages, shell and data', () => {
    classifies([
      ['bash', 'echo hi', 'shell'],
      ['json', '{"a": 1}', 'output'],
      ['py', 'x = 1', 'python'],
      ['sql', 'SELECT 1;', 'other'],
      ['ts', 'result = 1;', 'ts'],
    ]);
  });

  test('a neutral tag lets the content decide', () => {
    classifies([
      ['', 'result = context.n + 1;', 'js'],
      ['text', '$ npm install\n$ node main.js', 'shell'],
      ['', 'The total is 42.', 'output'],
      ['plaintext', 'const n: number = 1;', 'ts'],
    ]);
  });

  test('a js tag over JSON or Python is overruled by the content', () => {
    classifies([
      ['js', '[1, 2, 3]', 'output'],
      ['javascript', 'def f(x):\n    return x', 'python'],
    ]);
  });
});

describe('tags that are names of object members', () => {
  test('`constructor` and `__proto__` are unknown tags like any other word, not members of a lookup object', () => {
    for (const tag of ['constructor', '__proto__', 'valueof']) {
      assert.equal(classify(tag, 'SELECT 1;'), 'other', tag);
      assert.match(otherLanguageWarning(tag), new RegExp(`This is \`${tag}\` code`), tag);
      const r = extracted(`\`\`\`${tag}\nresult = context.n + 1;\n\`\`\``);
      assert.equal(r.code, 'result = context.n + 1;', tag);
      assert.equal(r.language, 'other', tag);
    }
  });
});
