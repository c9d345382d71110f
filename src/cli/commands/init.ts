/** `automesh init [dir] [--examples] [--force]`: a runnable project that uses automesh. */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { eprintln, mark, paint, println, UsageError, type Io } from '../io.js';
import { packageJson, packageRoot } from '../package-root.js';

const HELP = `Usage: automesh init [dir] [--examples] [--force]

Writes a runnable project into dir (default: the current folder; created when missing):

  package.json    "type": "module", npm start (tsx main.ts), dependencies automesh and tsx
  agents.ts       a calculator agent (a class) and an analyst agent (defineAgent) with a tool
  main.ts         starts a Mesh with those agents, runs a task and a small workflow, prints the results
  workflow.json   the same workflow, for automesh run --agents ./agents.ts workflow.json
  .env.example    every setting, documented (copy it to .env and configure a provider)
  README.md, .gitignore

Options:
  --examples   also copy automesh's examples into dir/examples (importing from 'automesh')
  --force      overwrite files that exist (without it, init refuses and names them)

automesh is not on the npm registry yet: the project depends on this installation by path (file:...).`;

/** Template files under templates/init and their names in the project. */
const TEMPLATE_FILES: Array<[string, string]> = [
  ['agents.ts', 'agents.ts'],
  ['main.ts', 'main.ts'],
  ['workflow.json', 'workflow.json'],
  ['README.md', 'README.md'],
  // npm leaves .gitignore files out of packages, so the template has no dot.
  ['gitignore', '.gitignore'],
];

/** An npm package name from a folder name. */
function projectName(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').replace(/-+$/, '').slice(0, 100);
  return name || 'automesh-project';
}

function render(text: string, slots: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => slots[name] ?? whole);
}

/** An example rewritten for a project that installs automesh: imports from 'automesh', run with tsx. */
function rewriteExample(text: string): string {
  return text
    .replace(/(from\s+)(['"])\.\.\/src\/index\.js\2/g, "$1'automesh'")
    .replace(/(import\s*\(\s*)(['"])\.\.\/src\/index\.js\2/g, "$1'automesh'")
    .replace(/npm run build && /g, '');
}

/** Bare imports of the examples other than automesh and node: builtins (they become dependencies). */
function bareImports(texts: string[]): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)(['"])([^'"]+)\1/g)) {
      const spec = m[2] as string;
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || spec === 'automesh') continue;
      const parts = spec.split('/');
      found.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
    }
  }
  return [...found].sort();
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { examples: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
  });
  if (positionals.length > 1) throw new UsageError(`init takes one folder; got ${positionals.length}: ${positionals.join(' ')}`);
  const dir = resolve(io.cwd, positionals[0] ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    eprintln(io, `${paint(io, 'red', 'error:')} ${dir} exists and is not a folder.`);
    return 1;
  }

  const root = packageRoot();
  const pkg = packageJson();
  const templates = join(root, 'templates', 'init');
  const slots = { name: projectName(dir), automeshRoot: root, automeshVersion: pkg.version };

  // Everything to write, decided before anything is written.
  const files = new Map<string, string>();
  for (const [from, to] of TEMPLATE_FILES) files.set(to, render(readFileSync(join(templates, from), 'utf8'), slots));
  files.set('.env.example', readFileSync(join(root, '.env.example'), 'utf8'));

  const dependencies: Record<string, string> = {
    automesh: `file:${root}`,
    tsx: pkg.dependencies?.tsx ?? '^4.0.0',
  };
  if (values.examples) {
    const exampleDir = join(root, 'examples');
    const names = readdirSync(exampleDir).filter((f) => /\.(ts|js|mjs)$/.test(f)).sort();
    const texts = names.map((name) => rewriteExample(readFileSync(join(exampleDir, name), 'utf8')));
    names.forEach((name, i) => files.set(join('examples', name), texts[i] as string));
    for (const dep of bareImports(texts)) {
      const version = pkg.dependencies?.[dep];
      if (version) dependencies[dep] = version;
    }
  }
  files.set('package.json', `${JSON.stringify({
    name: slots.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    '//': 'automesh is not published to the npm registry yet: it is installed from the copy that ran automesh init (see README.md).',
    scripts: {
      start: 'tsx main.ts',
      workflow: 'automesh run --agents ./agents.ts workflow.json',
      check: 'automesh check',
    },
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
  }, null, 2)}\n`);

  const existing = [...files.keys()].filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0 && !values.force) {
    eprintln(io, `${paint(io, 'red', 'error:')} ${relative(io.cwd, dir) || '.'} already has ${existing.join(', ')}; ` +
      'nothing was written. Use --force to overwrite them, or choose an empty folder.');
    return 1;
  }

  for (const [file, text] of files) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }

  const shown = relative(io.cwd, dir) || '.';
  println(io, `${mark.ok(io)} Created a project in ${shown}${existing.length ? ` (overwrote ${existing.join(', ')})` : ''}:`);
  for (const file of [...files.keys()].filter((f) => !f.startsWith('examples'))) println(io, `    ${file}`);
  if (values.examples) println(io, `    examples/ (${[...files.keys()].filter((f) => f.startsWith('examples')).length} files, importing from 'automesh')`);
  println(io);
  println(io, 'Next:');
  if (shown !== '.') println(io, `  cd ${shown}`);
  println(io, '  npm install');
  println(io, '  cp .env.example .env      # configure one provider (CLAUDE_API_KEY, LLM_ENDPOINT, ...)');
  println(io, '  npm start                 # runs main.ts');
  println(io, '  npx automesh run --agents ./agents.ts workflow.json');
  println(io, paint(io, 'dim', `automesh is not on the npm registry yet; package.json installs it from ${root} (file:).`));
  return 0;
}

export const initCommand: Command = { name: 'init', summary: 'create a runnable project (agents.ts, main.ts, .env.example)', help: HELP, run };
