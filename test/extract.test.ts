// Reply parsing end to end: a corpus of realistic model replies (test/fixtures/replies/), replies with nothing in
// them, and degenerate replies. Each part of src/codegen/extract/ has its own test/extract-<part>.test.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CodeLanguage, extractCode } from '../src/codegen/extract.js';
import { compileProgram } from '../src/sandbox/compile.js';
import { extracted } from './helpers/extract.js';

const REPLIES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'replies');

/** One entry of expected.json: the exact code and language, or that the reply holds no program. */
type Expected =
  | {
      code: string;
      language: CodeLanguage /** false: the model's code is not a valid program as written */;
      compiles?: boolean;
    }
  | { noCode: true };

const expected = JSON.parse(readFileSync(join(REPLIES, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(REPLIES)
  .filter((f) => f.endsWith('.md'))
  .sort();

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
      assert.equal(
        got.warning !== null,
        want.language === 'python' || want.language === 'other',
        `warning: ${got.warning}`,
      );
      // What the sandbox will make of it: runnable JS/TS compiles, Python and other languages fail as syntax
      // errors (and go to repair with the warning), and so do the few programs that are broken as written.
      const compiled = await compileProgram(got.code);
      const shouldCompile =
        (want.language === 'javascript' || want.language === 'typescript') && want.compiles !== false;
      assert.equal(compiled.ok, shouldCompile, compiled.ok ? 'compiled' : compiled.message);
    });
  }
});

describe('no code', () => {
  test('empty and whitespace-only replies', () => {
    assert.equal(extractCode('').ok, false);
    assert.equal(extractCode('  \n\n\t\n').ok, false);
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
      '```js\nresult = v0;\n```\n'
        + Array.from({ length: 1000 }, (_, i) => `\`\`\`js\nconst v${i} = v${i + 1};\n\`\`\``).join('\n'),
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
