// What a fenced block holds: the tag proposes, the content decides.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
