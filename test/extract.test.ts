// Reply parsing: a corpus of realistic model replies (test/fixtures/replies/) plus focused edge cases.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractCode, type CodeLanguage, type ExtractedCode } from '../src/codegen/extract.js';
import { compileProgram } from '../src/sandbox/compile.js';

const REPLIES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'replies');

/** One entry of expected.json: the exact code and language, or that the reply holds no program. */
type Expected =
  | { code: string; language: CodeLanguage; /** false: the model's code is not a valid program as written */ compiles?: boolean }
  | { noCode: true };

const expected = JSON.parse(readFileSync(join(REPLIES, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(REPLIES).filter((f) => f.endsWith('.md')).sort();

function extracted(reply: string): ExtractedCode {
  const r = extractCode(reply);
  assert.ok(r.ok, `expected code, got: ${r.ok ? '' : r.reason}`);
  return r;
}

describe('corpus of model replies', () => {
  test('every reply has an expectation and vice versa; the corpus is large enough', () => {
    assert.deepEqual(Object.keys(expected).sort(), files);
    assert.ok(files.length >= 36, `only ${files.length} replies`);
  });

  for (const file of files) {
    test(file, async () => {
      const reply = readFileSync(join(REPLIES, file), 'utf8');
      const want = expected[file];
      assert.ok(want, `no expectation for ${file}`);
      const got = extractCode(reply);
      if ('noCode' in want) {
        assert.equal(got.ok, false, `expected no code, got: ${got.ok ? got.code : ''}`);
        if (!got.ok) assert.match(got.reason, /```javascript/);
        return;
      }
      assert.ok(got.ok, `expected code, got: ${got.ok ? '' : got.reason}`);
      assert.equal(got.code, want.code);
      assert.equal(got.language, want.language);
      assert.notEqual(got.code.trim(), '');
      assert.equal(got.warning !== null, want.language === 'python' || want.language === 'other', `warning: ${got.warning}`);
      // What the sandbox will make of it: runnable JS/TS compiles, Python and other languages fail as syntax
      // errors (and go to repair with the warning), and so do the few programs that are broken as written.
      const compiled = await compileProgram(got.code);
      const shouldCompile = (want.language === 'javascript' || want.language === 'typescript') && want.compiles !== false;
      assert.equal(compiled.ok, shouldCompile, compiled.ok ? 'compiled' : compiled.message);
    });
  }
});

describe('fences', () => {
  const program = 'const x = context.a;\nresult = x * 2;';

  for (const tag of ['js', 'javascript', 'ts', 'typescript', 'jsx', 'tsx', 'mjs', 'node', '', 'JavaScript', 'text']) {
    test(`tag \`${tag}\``, () => {
      const r = extracted(`Here is the code:\n\n\`\`\`${tag}\n${program}\n\`\`\`\n\nDone.`);
      assert.equal(r.code, program);
      assert.equal(r.fenced, true);
      assert.equal(r.blocks, 1);
      assert.equal(r.language, ['ts', 'typescript', 'tsx'].includes(tag) ? 'typescript' : 'javascript');
    });
  }

  test('attributes, file names and braces after the tag', () => {
    for (const info of ['js title="x.js"', 'js:main.js', '{.javascript}', 'javascript {1,3}', ' js', 'language-js']) {
      assert.equal(extracted('```' + info + '\n' + program + '\n```').code, program, info);
    }
  });

  test('~~~ fences, longer fences, and a shorter fence inside a longer one', () => {
    assert.equal(extracted('~~~javascript\n' + program + '\n~~~').code, program);
    const inner = '/*\n```\n*/\nresult = 1;';
    assert.equal(extracted('````js\n' + inner + '\n````\nafter').code, inner);
    // A ~~~ line does not close a ``` fence.
    const tilde = 'const s = 1;\n/*\n~~~\n*/\nresult = s;';
    assert.equal(extracted('```js\n' + tilde + '\n```').code, tilde);
  });

  test('a fence indented inside a list item loses the list indentation only', () => {
    const reply = '1. Step one\n2. Run:\n\n    ```js\n    if (context.a) {\n      result = 1;\n    }\n    ```\n3. Done';
    assert.equal(extracted(reply).code, 'if (context.a) {\n  result = 1;\n}');
  });

  test('CRLF line endings give LF code', () => {
    const r = extracted('Code:\r\n\r\n```js\r\nconst a = 1;\r\nresult = a;\r\n```\r\n');
    assert.equal(r.code, 'const a = 1;\nresult = a;');
  });

  test('an unclosed final fence runs to the end of the reply', () => {
    assert.equal(extracted('Here you go:\n\n```javascript\n' + program + '\n\n').code, program);
  });

  test('a leading // filename comment is kept as written', () => {
    const code = '// sum.js\nresult = context.xs.reduce((a, b) => a + b, 0);';
    assert.equal(extracted('```js\n' + code + '\n```').code, code);
  });

  test('an empty block is never returned as code', () => {
    const r = extractCode('```js\n\n```\nSorry, I need more details.');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /empty/);
    // An empty block next to a real one: the real one.
    assert.equal(extracted('```js\n```\n\n```js\nresult = 1;\n```').code, 'result = 1;');
  });
});

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

  for (const intro of ['Usage:', 'Output:', 'You can test it like this:', '### Example usage', 'Expected output:']) {
    test(`a block introduced by "${intro}" loses to the program`, () => {
      const reply = `\`\`\`js\nconst total = context.xs.length;\nresult = total;\n\`\`\`\n\n${intro}\n\n\`\`\`js\nresult = 3;\nconsole.log(result);\n\`\`\``;
      assert.equal(extracted(reply).code, 'const total = context.xs.length;\nresult = total;');
    });
  }

  test('shell commands, JSON and console-only blocks are never the program', () => {
    const reply = [
      '```bash', 'npm install', 'node index.js', '```', '',
      '```js', 'console.log("start");', '```', '',
      '```json', '{ "total": 3 }', '```', '',
      '```js', 'result = context.items.length;', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'result = context.items.length;');
  });

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

  test('JavaScript wins over a Python version of the same thing', () => {
    const reply = '```python\ndef f(x):\n    return x * 2\n```\n\n```js\nresult = context.x * 2;\n```';
    const r = extracted(reply);
    assert.equal(r.code, 'result = context.x * 2;');
    assert.equal(r.warning, null);
  });
});

describe('definitions from other blocks', () => {
  test('a helper defined in an earlier block is prepended, in reply order', () => {
    const reply = [
      'A helper:', '', '```js', 'const square = (n) => n * n;', '```', '',
      'Another one:', '', '```js', 'function sumOf(xs, f) {', '  return xs.reduce((a, x) => a + f(x), 0);', '}', '```', '',
      'Now the answer:', '', '```js', 'result = sumOf(context.xs, square);', '```',
    ].join('\n');
    const r = extracted(reply);
    assert.equal(r.code, [
      'const square = (n) => n * n;', '', 'function sumOf(xs, f) {', '  return xs.reduce((a, x) => a + f(x), 0);', '}', '',
      'result = sumOf(context.xs, square);',
    ].join('\n'));
    assert.match(r.note, /prepended blocks 1, 2/);
  });

  test('transitively: a helper of a helper', () => {
    const reply = [
      '```js', 'const RATE = 0.2;', '```',
      '```js', 'class Taxer {', '  tax(x) { return x * RATE; }', '}', '```',
      '```js', 'result = new Taxer().tax(context.amount);', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'const RATE = 0.2;\n\nclass Taxer {\n  tax(x) { return x * RATE; }\n}\n\nresult = new Taxer().tax(context.amount);');
  });

  test('blocks that do not define anything the program uses are left out', () => {
    const reply = '```js\nconst unrelated = 1;\n```\n\n```js\nconst total = context.n;\nresult = total;\n```';
    assert.equal(extracted(reply).code, 'const total = context.n;\nresult = total;');
  });

  test('a block that would redeclare a name of the program is left out', () => {
    const reply = [
      '```js', 'const rows = [];', 'function helper(x) { return x; }', '```', '',
      'Final version:', '', '```js', 'const rows = context.rows;', 'result = rows.map(helper);', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'const rows = context.rows;\nresult = rows.map(helper);');
  });

  test('`result` and `context` declared in a usage block are not dependencies', () => {
    const reply = [
      '```js', 'result = context.items.filter((i) => i.ok).length;', '```', '',
      'You can test it with:', '', '```js', 'const context = { items: [{ ok: true }] };', 'let result;', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'result = context.items.filter((i) => i.ok).length;');
  });

  test('the latest definition wins when a helper was revised', () => {
    const reply = [
      '```js', 'function clean(s) { return s.trim(); }', '```', '',
      'Better, also lower-case it:', '', '```js', 'function clean(s) { return s.trim().toLowerCase(); }', '```', '',
      'Then:', '', '```js', 'result = context.names.map(clean);', '```',
    ].join('\n');
    assert.equal(extracted(reply).code, 'function clean(s) { return s.trim().toLowerCase(); }\n\nresult = context.names.map(clean);');
  });
});

describe('unfenced code', () => {
  test('the whole reply is code', () => {
    const code = 'const xs = context.xs;\n\n// largest value\nresult = Math.max(...xs);';
    const r = extracted(code);
    assert.equal(r.code, code);
    assert.equal(r.fenced, false);
    assert.equal(r.blocks, 0);
  });

  test('prose before and after is dropped', () => {
    const r = extracted('Sure! Here is the code:\n\nconst xs = context.xs;\nresult = xs.length;\n\nThis counts the items.\nLet me know if you need more.');
    assert.equal(r.code, 'const xs = context.xs;\nresult = xs.length;');
    assert.match(r.note, /prose/);
  });

  test('a sentence between two code parts is dropped, code-like lines are kept', () => {
    const reply = 'const a = context.a;\nNow we double it:\nconst b = a *\n  2\nresult = b;';
    assert.equal(extracted(reply).code, 'const a = context.a;\nconst b = a *\n  2\nresult = b;');
  });

  test('prose-like lines inside template literals, comments and brackets are kept', () => {
    const code = [
      '/*', ' * Builds the greeting.', ' * It is polite.', ' */', 'const msg = `Hello there.', 'This is a greeting.', '`;',
      'const opts = {', '  Note: true,', '};', 'result = { msg, opts };',
    ].join('\n');
    assert.equal(extracted(`Here it is:\n\n${code}\n\nThanks!`).code, code);
  });

  test('a markdown indented code block loses its 4-space indentation', () => {
    const r = extracted('Here is the code:\n\n    const x = context.n;\n    if (x) {\n      result = x;\n    }\n\nDone.');
    assert.equal(r.code, 'const x = context.n;\nif (x) {\n  result = x;\n}');
  });

  test('step-by-step prose between statements', () => {
    const reply = 'Let me solve this step by step.\n\nFirst, we filter:\nconst xs = context.xs.filter((x) => x > 0);\nthen we sum:\nresult = xs.length;';
    assert.equal(extracted(reply).code, 'const xs = context.xs.filter((x) => x > 0);\nresult = xs.length;');
  });

  test('a single inline code span', () => {
    assert.equal(extracted('`result = 6 * 7`').code, 'result = 6 * 7');
  });

  test('code outside fences that only hold output', () => {
    const reply = 'result = context.xs.length;\n\nOutput:\n\n```\n3\n```';
    const r = extracted(reply);
    assert.equal(r.code, 'result = context.xs.length;');
    assert.equal(r.fenced, false);
    assert.equal(r.blocks, 1);
  });
});

describe('languages', () => {
  test('Python in a ```python fence is returned with a warning and does not compile', async () => {
    const r = extracted('```python\ndef double(x):\n    return x * 2\n\nresult = double(context["x"])\n```');
    assert.equal(r.language, 'python');
    assert.match(r.warning ?? '', /This is Python; write JavaScript/);
    assert.equal((await compileProgram(r.code)).ok, false);
  });

  test('unfenced Python: `def f(x):`', () => {
    const r = extracted('Here you go:\n\ndef f(x):\n    return x + 1\n\nresult = f(2)\n\nThat adds one.');
    assert.equal(r.code, 'def f(x):\n    return x + 1\n\nresult = f(2)');
    assert.equal(r.language, 'python');
    assert.notEqual(r.warning, null);
  });

  test('Python under a js tag, and an untagged Python fence, are Python', () => {
    assert.equal(extracted('```js\nimport math\nresult = math.sqrt(2)\n```').language, 'python');
    assert.equal(extracted('```\nfor x in items:\n    print(x)\n```').language, 'python');
  });

  test('JavaScript under a python tag is JavaScript', () => {
    const r = extracted('```python\nconst xs = context.xs;\nresult = xs.map((x) => x * 2);\n```');
    assert.equal(r.language, 'javascript');
    assert.equal(r.warning, null);
  });

  test('another language gets a warning naming it', () => {
    const r = extracted('```sql\nSELECT COUNT(*) FROM users;\n```');
    assert.equal(r.language, 'other');
    assert.match(r.warning ?? '', /SQL/);
    const diff = extracted('```diff\n- result = a\n+ result = b\n```');
    assert.match(diff.warning ?? '', /diff/);
  });

  test('TypeScript is detected from annotations, interfaces, casts and generics', () => {
    for (const code of [
      'const n: number = context.n;\nresult = n;',
      'interface P { x: number }\nresult = (context.p as P).x;',
      'function f(a: string): string { return a; }\nresult = f(context.s);',
      'const m = new Map<string, number>();\nresult = m.size;',
      'type Row = { id: string };\nresult = (context.rows as Row[]).length;',
    ]) {
      assert.equal(extracted('```js\n' + code + '\n```').language, 'typescript', code);
    }
  });

  test('plain JavaScript with colons in objects, ternaries and strings is not TypeScript', () => {
    for (const code of [
      'const o = { a: 1, b: Math.max(1, 2) };\nresult = o;',
      'result = context.ok ? "yes: done" : "no";',
      'const label = "x as String"; // type: string\nresult = label;',
      'result = context.items.map((i) => ({ name: i.name, total: i.qty * i.price }));',
    ]) {
      assert.equal(extracted('```js\n' + code + '\n```').language, 'javascript', code);
    }
  });

  test('import, export and module.exports are kept as written, with no warning', () => {
    for (const code of ["import _ from 'lodash';\nresult = _.sum(context.xs);", 'export default function main() {}', 'module.exports = 1;']) {
      const r = extracted('```js\n' + code + '\n```');
      assert.equal(r.code, code);
      assert.equal(r.warning, null);
    }
  });
});

describe('no code', () => {
  test('a prose-only reply says what to do', () => {
    const r = extractCode("I'm not able to help with that request.\n\nIf you clarify the data format, I can write the code.");
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'The reply contained no code. Answer with one ```javascript block that sets `result`.');
  });

  test('empty and whitespace-only replies', () => {
    assert.equal(extractCode('').ok, false);
    assert.equal(extractCode('  \n\n\t\n').ok, false);
  });

  test('only shell commands, only data: the reason says so', () => {
    const shell = extractCode('Run:\n\n```bash\nnode main.js\n```');
    assert.ok(!shell.ok && /shell commands/.test(shell.reason));
    for (const reply of ['The answer:\n\n```json\n{"total": 42}\n```', '```\n{"total": 42}\n```', '```js\n[1, 2, 3]\n```']) {
      const data = extractCode(reply);
      assert.ok(!data.ok && /data or output/.test(data.reason), reply);
    }
  });

  test('reasoning that never finished', () => {
    const r = extractCode('<think>\nLet me think about the data.\n```js\nresult = 1\n```\nHmm, but');
    assert.ok(!r.ok && /reasoning/.test(r.reason));
  });

  test('drafts inside <think> are ignored when an answer follows', () => {
    assert.equal(extracted('<think>\n```js\nresult = 1;\n```\n</think>\n\n```js\nresult = 2;\n```').code, 'result = 2;');
  });
});

describe('robustness', () => {
  test('degenerate replies (a model stuck repeating itself) are handled in linear time', () => {
    const start = performance.now();
    for (const reply of [
      '):A'.repeat(100_000),
      'x = a' + ' / a'.repeat(100_000),
      '('.repeat(200_000),
      '`${'.repeat(100_000),
      'result = result + 1;\n'.repeat(20_000),
      '```js\nresult = v0;\n```\n' + Array.from({ length: 1000 }, (_, i) => `\`\`\`js\nconst v${i} = v${i + 1};\n\`\`\``).join('\n'),
    ]) {
      extractCode(reply);
    }
    assert.ok(performance.now() - start < 10_000, `took ${Math.round(performance.now() - start)} ms`);
  });

  test('code is never an empty string', () => {
    for (const reply of ['```js\n   \n```', '~~~\n~~~', '``` \n```', '`` ``', '\n\n```\n', '<think></think>']) {
      const r = extractCode(reply);
      assert.ok(!r.ok || r.code.trim() !== '', reply);
    }
  });

  test('the note says which block was used and why', () => {
    const r = extracted('```bash\nnpm test\n```\n\n```ts\nconst n: number = context.n;\nresult = n;\n```');
    assert.equal(r.note, 'fenced block 2 of 2 (ts): sets result');
    assert.equal(r.blocks, 2);
  });
});
