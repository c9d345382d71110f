// Choosing the program among fenced blocks, and the wrong-language fallback.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pickFromBlocks } from '../src/codegen/extract/choose.js';
import { PYTHON_WARNING } from '../src/codegen/extract/messages.js';
import { compileProgram } from '../src/sandbox/compile.js';
import { blocksOf, extracted } from './helpers/extract.js';

describe('choosing among several blocks', () => {
  test('the program, not the usage example after it', () => {
    const reply = [
      'Here is the function:',
      '',
      '```js',
      'function double(n) {',
      '  return n * 2;',
      '}',
      '',
      'result = double(context.n);',
      '```',
      '',
      'Example usage:',
      '',
      '```js',
      'console.log(double(21)); // 42',
      '```',
    ].join('\n');
    const r = extracted(reply);
    assert.equal(r.code, 'function double(n) {\n  return n * 2;\n}\n\nresult = double(context.n);');
    assert.equal(r.blocks, 2);
    assert.match(r.note, /block 1 of 2/);
  });

  test('shell commands, JSON and console-only blocks are never the program', () => {
    const reply = [
      '```bash',
      'npm install',
      'node index.js',
      '```',
      '',
      '```js',
      'console.log("start");',
      '```',
      '',
      '```json',
      '{ "total": 3 }',
      '```',
      '',
      '```js',
      'result = context.items.length;',
      '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'result = context.items.length;');
  });

  test('JavaScript wins over a Python version of the same thing', () => {
    const reply = '```python\ndef f(x):\n    return x * 2\n```\n\n```js\nresult = context.x * 2;\n```';
    const r = extracted(reply);
    assert.equal(r.code, 'result = context.x * 2;');
    assert.equal(r.warning, null);
  });

  test('Python in a ```python fence is returned with a warning and does not compile', async () => {
    const r = extracted('```python\ndef double(x):\n    return x * 2\n\nresult = double(context["x"])\n```');
    assert.equal(r.language, 'python');
    assert.match(r.warning ?? '', /This is Python; write JavaScript/);
    assert.equal((await compileProgram(r.code)).ok, false);
  });
});

describe('pickFromBlocks', () => {
  test('no blocks, or only shell, data and empty blocks: nothing to pick', () => {
    assert.equal(pickFromBlocks([]), null);
    assert.equal(pickFromBlocks(blocksOf('```bash\nnpm test\n```\n```json\n{"a": 1}\n```\n```js\n```')), null);
  });

  test('ties go to the earlier block', () => {
    const picked = pickFromBlocks(blocksOf('```js\nresult = 1;\n```\n```js\nresult = 2;\n```'));
    assert.equal(picked?.code, 'result = 1;');
    assert.equal(picked?.note, 'fenced block 1 of 2 (js): sets result');
  });

  test('a TypeScript helper makes the whole program TypeScript', () => {
    const picked = pickFromBlocks(
      blocksOf('```ts\nconst rate: number = 2;\n```\n```js\nresult = context.n * rate;\n```'),
    );
    assert.equal(picked?.language, 'typescript');
    assert.equal(picked?.code, 'const rate: number = 2;\n\nresult = context.n * rate;');
  });

  test('with no JavaScript, the longest Python block comes back with the Python warning, before any other language', () => {
    const picked = pickFromBlocks(
      blocksOf(
        '```sql\nSELECT name, total FROM orders;\n```\n```python\nx = 1\n```\n```py\nxs = [1, 2]\nprint(sum(xs))\n```',
      ),
    );
    assert.equal(picked?.language, 'python');
    assert.equal(picked?.code, 'xs = [1, 2]\nprint(sum(xs))');
    assert.equal(picked?.warning, PYTHON_WARNING);
    assert.equal(picked?.note, 'fenced block 3 of 3 (py): no JavaScript block, python code');
  });
});
