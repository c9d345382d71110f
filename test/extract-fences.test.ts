// Fenced blocks: tags and info strings, fence kinds and lengths, indentation, unclosed and empty fences.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fenceTag, findBlocks } from '../src/codegen/extract/fences.js';
import { extractCode } from '../src/codegen/extract.js';
import { extracted } from './helpers/extract.js';

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

describe('findBlocks and fenceTag', () => {
  test('each block has its position, tag, kind, code and the two prose lines before it; prose stays outside', () => {
    const { blocks, outside } = findBlocks(
      'Intro.\n\nHere it is:\n```ts\nconst n: number = 1;\nresult = n;\n```\nRun it with:\n~~~bash\nnode main.js\n~~~\nBye.',
    );
    assert.deepEqual(
      blocks.map(({ n, tag, kind, intro }) => ({ n, tag, kind, intro })),
      [
        { n: 1, tag: 'ts', kind: 'ts', intro: 'Intro.\nHere it is:' },
        { n: 2, tag: 'bash', kind: 'shell', intro: 'Run it with:' },
      ],
    );
    assert.equal(blocks[0]?.code, 'const n: number = 1;\nresult = n;');
    assert.deepEqual(outside, ['Intro.', '', 'Here it is:', 'Run it with:', 'Bye.']);
  });

  test('a backtick line whose info string holds a backtick is inline code, not a fence', () => {
    const { blocks, outside } = findBlocks('```js` is the tag to use\nresult = 1;');
    assert.equal(blocks.length, 0);
    assert.equal(outside.length, 2);
  });

  test('a closing fence must be the same character and at least as long as the opening one', () => {
    assert.equal(findBlocks('````js\na\n```\nb\n````').blocks[0]?.code, 'a\n```\nb');
    assert.equal(findBlocks('~~~\na\n```\n~~~').blocks[0]?.code, 'a\n```');
  });

  test('fenceTag reduces an info string to its lower-cased language word', () => {
    const cases: Array<[string, string]> = [
      ['JavaScript {1,3}', 'javascript'],
      ['js title="x.js"', 'js'],
      ['ts:main.ts', 'ts'],
      ['{.python}', 'python'],
      ['language-tsx', 'tsx'],
      ['', ''],
      ['   ', ''],
    ];
    for (const [info, tag] of cases) assert.equal(fenceTag(info), tag, info);
  });
});
