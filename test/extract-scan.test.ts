// The line scanner (src/codegen/extract/scan.ts): which lines are at top level, with strings, template text,
// regular expressions and comments blanked out so that what they contain does not count as code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyze, newScanState, scanLine, strip } from '../src/codegen/extract/scan.js';

describe('analyze', () => {
  test('a line is at top level when it starts outside every bracket, template literal and block comment', () => {
    const code = [
      'const a = {',
      '  b: 1,',
      '};',
      'const t = `one',
      'two ${x}`;',
      '/*',
      ' * comment',
      ' */',
      'result = a;',
    ].join('\n');
    assert.deepEqual(
      analyze(code).map((l) => l.top),
      [true, false, false, true, false, true, false, false, true],
    );
  });

  test('the original text is kept beside the stripped one', () => {
    const [line] = analyze("x = 'a'; // note");
    assert.equal(line?.text, "x = 'a'; // note");
    assert.equal(line?.stripped, "x = ' ';        ");
  });
});

describe('strip', () => {
  test('string, template-text, regex and comment contents become spaces, so lengths and columns stay', () => {
    const cases: Array<[string, string]> = [
      ['a = "result = 1";', 'a = "          ";'],
      ["b = 'it''s';", "b = '  '' ';"], // two strings
      ['c = `hi ${name}!`;', 'c = `   ${name} `;'],
      ['d = /ab+c/.test(s);', 'd = /    /.test(s);'],
      ['e = x / 2 / y;', 'e = x / 2 / y;'],
      ['f(); /* def g(): */ h();', 'f();                h();'],
      ['return /x/;', 'return / /;'],
    ];
    for (const [code, stripped] of cases) {
      assert.equal(strip(code), stripped, code);
      assert.equal(strip(code).length, code.length, code);
    }
  });

  test('an escaped quote does not end a string', () => {
    assert.equal(strip(String.raw`s = "a\"b" + t;`), 's = "    " + t;');
  });
});

describe('scanLine', () => {
  test('the state carries brackets and block comments from one line to the next', () => {
    const state = newScanState();
    scanLine('f({', state);
    assert.deepEqual(state.stack, ['(', '{']);
    scanLine('}) /* open', state);
    assert.deepEqual(state.stack, []);
    assert.equal(state.comment, true);
    assert.equal(scanLine('still */ x', state), '         x');
    assert.equal(state.comment, false);
  });

  test('a closing bracket that matches nothing is ignored', () => {
    const state = newScanState();
    scanLine(')]}', state);
    assert.deepEqual(state.stack, []);
  });
});

describe('analyze, again', () => {
  test('a block extraction looks at several times is scanned once', () => {
    const code = 'function f(a) {\n  return a + 1;\n}\nresult = f(1); // done';
    const first = analyze(code);
    assert.equal(analyze(code), first, 'the second look reuses the first scan');
    assert.deepEqual(
      first.map((l) => l.top),
      [true, false, false, true],
    );
    // A change of one character is another block, scanned on its own.
    assert.notEqual(analyze(`${code} `), first);
  });
});
