// The lint and format settings (biome.jsonc, `npm run lint`): the formatter keeps code written in the house style as
// it is and rewrites other styles into it; the linter reports real faults and stays quiet on the deliberate patterns
// the configuration lets through. Each check runs Biome on sample files in a temporary copy of the settings.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/temp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome');

/** A folder holding the project's settings, applied to every file in it, and the given files. */
function project(files: Record<string, string>): string {
  const dir = tempDir('lint');
  // biome.jsonc holds whole-line comments only; the sample folder is not a git checkout.
  const text = readFileSync(join(ROOT, 'biome.jsonc'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const settings = JSON.parse(text) as { $schema?: string; files: { includes: string[] }; vcs: { enabled: boolean } };
  delete settings.$schema;
  settings.files.includes = ['**'];
  settings.vcs.enabled = false;
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(settings));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Runs Biome with the copied settings on the sample files (not on the settings file itself). */
function biome(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const samples = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.ts'));
  const run = spawnSync(BIOME, [...args, `--config-path=${dir}`, ...samples], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface Diagnostic {
  category: string;
  location: { path: string };
}

/** Lint diagnostics as `path category`, sorted. */
function lint(files: Record<string, string>): string[] {
  const dir = project(files);
  const run = biome(dir, 'lint', '--reporter=json', '--max-diagnostics=none');
  const report = JSON.parse(run.stdout) as { diagnostics: Diagnostic[] };
  return report.diagnostics.map((d) => `${d.location.path} ${d.category}`).sort();
}

const HOUSE_STYLE = `import { readFileSync } from 'node:fs';

/** A line of the right width stays on one line: the code is wrapped at 120 columns. */
export function describeFile(path: string, options: { encoding: BufferEncoding; limit: number }): string[] {
  const lines = readFileSync(path, options.encoding).split('\\n');
  const long = lines.filter((line) => line.length > options.limit);
  const summary = {
    path,
    lines: lines.length,
    long: long.length,
  };
  return [
    \`\${summary.path}: \${summary.lines} lines\`,
    summary.long > 0
      ? \`\${summary.long} longer than \${options.limit} characters, the longest has \${Math.max(...long.map((l) => l.length))}\`
      : 'none too long',
  ];
}

/** A condition too long for one line breaks before its operators. */
export function regexMayStart(t: string): boolean {
  return (
    t === ''
    || /[(,=:[!&|?{};+\\-*%<>~^]$/.test(t)
    || /(?:^|[^\\w$])(?:return|typeof|case|do|else|in|of|yield|await|instanceof|delete|void|throw)$/.test(t)
  );
}
`;

describe('formatter', () => {
  test('code in the house style is left as it is', () => {
    const dir = project({ 'src/house.ts': HOUSE_STYLE });
    const run = biome(dir, 'format');
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });

  test('other styles are rewritten into it: single quotes, semicolons, 2 spaces, trailing commas', () => {
    const dir = project({
      'src/other.ts': 'export const a = {\n\tname: "x",\n\tlist: [1, 2]\n}\nexport const f = x => x\n',
    });
    const run = biome(dir, 'format', '--write');
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(
      readFileSync(join(dir, 'src/other.ts'), 'utf8'),
      "export const a = {\n  name: 'x',\n  list: [1, 2],\n};\nexport const f = (x) => x;\n",
    );
  });
});

describe('linter', () => {
  test('the deliberate patterns pass', () => {
    const deliberate = [
      'export function send(reply: (status: number) => void, ok: boolean, items: string[]): void {',
      '  if (!ok) return reply(400);',
      '  items.forEach((item) => console.log(item));',
      "  console.log('```js\\n' + items.join('\\n') + '\\n```');",
      "  console.log('const s = `${items.length}`;');",
      '  let count;',
      '  try {',
      '    count = items.length;',
      '  } catch {',
      '    count = 0;',
      '  }',
      "  const headers: Record<string, string> = { authorization: 'x' };",
      "  console.log(headers['authorization'], count);",
      '}',
      '',
    ].join('\n');
    assert.deepEqual(lint({ 'src/deliberate.ts': deliberate }), []);
  });

  test('real faults are reported, and non-null assertions outside tests and samples', () => {
    const faulty = [
      'export function first(xs?: string[]): number {',
      '  try {',
      '    return xs![0]!.length;',
      '  } finally {',
      '    // biome would otherwise let the try block decide',
      '    return 0;',
      '  }',
      '}',
      '',
    ].join('\n');
    const strip = 'export const CONTROL = /[\\u0000-\\u001f]/g;\n';
    assert.deepEqual(
      lint({
        'src/faulty.ts': faulty,
        'test/faulty.test.ts': faulty,
        'src/strip.ts': strip,
        'src/cli/terminal-text.ts': strip,
      }),
      [
        'src/faulty.ts lint/correctness/noUnsafeFinally',
        'src/faulty.ts lint/style/noNonNullAssertion',
        'src/faulty.ts lint/style/noNonNullAssertion',
        'src/strip.ts lint/suspicious/noControlCharactersInRegex',
        'src/strip.ts lint/suspicious/noControlCharactersInRegex',
        'test/faulty.test.ts lint/correctness/noUnsafeFinally',
      ],
    );
  });
});
