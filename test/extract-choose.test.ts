// Choosing the program among fenced blocks, and the wrong-language fallback.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileProgram } from '../src/sandbox/compile.js';
import { extracted } from './helpers/extract.js';

describe('choosing among several blocks', () => {
  test('the program, not the usage example after it', () => {
    const reply = [
      'Here is the function:', '', '```js', 'function double(n) {', '  return n * 2;', '}', '',
      'result = double(context.n);', '```', '', 'Example usage:', '', '```js', 'console.log(double(21)); // 42', '```',
    ].join('\n');
    const r = extracted(reply);
    assert.equal(r.code, 'function double(n) {\n  return n * 2;\n}\n\nresult = double(context.n);');
    assert.equal(r.blocks, 2);
    assert.match(r.note, /block 1 of 2/);
  });

  test('shell commands, JSON and console-only blocks are never the program', () => {
    const reply = [
      '```bash', 'npm install', 'node index.js', '```', '',
      '```js', 'console.log("start");', '```', '',
      '```json', '{ "total": 3 }', '```', '',
      '```js', 'result = context.items.length;', '```',
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
