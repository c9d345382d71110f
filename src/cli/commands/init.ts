/** `automesh init [dir] [--examples] [--force]`: a runnable project that uses automesh. */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, type Io, mark, paint, println, UsageError } from '../io.js';
import { packageJson, packageRoot } from '../package-root.js';

const HELP = `Usage: automesh init [dir] [--examples] [--force]

Writes a runnable project into dir (default: the current folder; created when missing):

  package.json    "type": "module", npm start (tsx main.ts), npm run typecheck, and the dependencies its files
                  import (automesh, zod, tsx; typescript and @types/node for the typecheck). In a folder that
                  has a package.json already, that file is kept (name, version, scripts, dependencies) and only
                  what is missing is added; a script whose name is taken is added as automesh:<name>
  agents.ts       a calculator agent (a class) and an analyst agent (defineAgent) with a tool
  main.ts         starts a Mesh with those agents, runs a task and a small workflow, prints the results
                  (from any working folder: it uses the project's .env and ./logs)
  workflow.json   the same workflow, for automesh run --agents ./agents.ts workflow.json
  tsconfig.json   strict TypeScript for Node (npm run typecheck)
  .env.example    every setting, documented (copy it to .env and configure a provider)
  README.md, .gitignore

Options:
  --examples   also copy automesh's examples into dir/examples (importing from 'automesh'); their imports
               become dependencies too
  --force      overwrite the scaffold's files that exist (without it, init refuses and names them);
               package.json is never overwritten, only completed

automesh is not on the npm registry yet: the project depends on this installation by path (file:...).`;

const OPTIONS = { examples: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } } as const;

/** Template files under templates/init and their names in the project. */
const TEMPLATE_FILES: Array<[string, string]> = [
  ['agents.ts', 'agents.ts'],
  ['main.ts', 'main.ts'],
  ['workflow.json', 'workflow.json'],
  ['tsconfig.json', 'tsconfig.json'],
  ['README.md', 'README.md'],
  // npm leaves .gitignore files out of packages, so the template has no dot.
  ['gitignore', '.gitignore'],
];

/** An npm package name from a folder name. */
function projectName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 100);
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

/** Bare imports of the project's files other than automesh and node: builtins (they become dependencies). */
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

type PackageJson = Record<string, unknown> & {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

const SCRIPTS: Record<string, string> = {
  start: 'tsx main.ts',
  workflow: 'automesh run --agents ./agents.ts workflow.json',
  check: 'automesh check',
  typecheck: 'tsc --noEmit',
};

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The project's package.json: a new one, or the one that is there with what the scaffold needs added (its
 * name, version, scripts and dependencies kept). Returns the text and what was added to an existing file.
 */
function projectPackageJson(
  path: string,
  name: string,
  dependencies: Record<string, string>,
  devDependencies: Record<string, string>,
): { text: string; added: string[]; kept: boolean; startScript: string } {
  if (!existsSync(path)) {
    const fresh: PackageJson = {
      name,
      version: '0.1.0',
      private: true,
      type: 'module',
      '//': 'automesh is not published to the npm registry yet: it is installed from the copy that ran automesh init (see README.md).',
      scripts: SCRIPTS,
      dependencies: sorted(dependencies),
      devDependencies: sorted(devDependencies),
    };
    return { text: `${JSON.stringify(fresh, null, 2)}\n`, added: [], kept: false, startScript: 'start' };
  }
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
  } catch (err) {
    throw new CliError(
      `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}); nothing was written`,
      [],
      'fix package.json, or move it away to get a new one',
    );
  }
  if (!pkg || typeof pkg !== 'object' || Array.isArray(pkg))
    throw new CliError(`${path} does not hold a JSON object; nothing was written`);
  const added: string[] = [];
  if (pkg.type === undefined) {
    pkg.type = 'module';
    added.push('"type": "module"');
  }
  const scripts = { ...(pkg.scripts ?? {}) };
  for (const [script, command] of Object.entries(SCRIPTS)) {
    if (Object.values(scripts).includes(command)) continue;
    const free = scripts[script] === undefined ? script : `automesh:${script}`;
    if (scripts[free] !== undefined) continue;
    scripts[free] = command;
    added.push(`script ${free}`);
  }
  const addMissing = (field: 'dependencies' | 'devDependencies', wanted: Record<string, string>): void => {
    const have = { ...(pkg[field] ?? {}) };
    for (const [dep, version] of Object.entries(wanted)) {
      if (pkg.dependencies?.[dep] !== undefined || pkg.devDependencies?.[dep] !== undefined) continue;
      have[dep] = version;
      added.push(`${dep}@${version}`);
    }
    pkg[field] = sorted(have);
  };
  pkg.scripts = scripts;
  addMissing('dependencies', dependencies);
  addMissing('devDependencies', devDependencies);
  const startScript = Object.entries(scripts).find(([, command]) => command === SCRIPTS.start)?.[0] ?? 'start';
  return { text: `${JSON.stringify(pkg, null, 2)}\n`, added, kept: true, startScript };
}

/** Versions of what the project's files import, from automesh's own dependencies; an unknown import is a bug here. */
function dependenciesOf(texts: string[], root: string, pkg: ReturnType<typeof packageJson>): Record<string, string> {
  const dependencies: Record<string, string> = { automesh: `file:${root}`, tsx: pkg.dependencies?.tsx ?? '^4.0.0' };
  for (const dep of bareImports(texts)) {
    const version = pkg.dependencies?.[dep] ?? pkg.devDependencies?.[dep];
    if (!version) throw new Error(`internal: the scaffold imports ${dep}, which automesh does not depend on`);
    dependencies[dep] = version;
  }
  return dependencies;
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs('init', {
    args,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (positionals.length > 1)
    throw new UsageError(
      `init takes one folder; got ${positionals.length}: ${positionals.join(' ')}`,
      'quote a folder name that has spaces',
    );
  const dir = resolve(io.cwd, positionals[0] ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new CliError(`${dir} exists and is not a folder`, [], 'choose another folder');

  const root = packageRoot();
  const pkg = packageJson();
  const templates = join(root, 'templates', 'init');
  const slots = { name: projectName(dir), automeshRoot: root, automeshVersion: pkg.version };

  // Everything to write, decided before anything is written.
  const files = new Map<string, string>();
  for (const [from, to] of TEMPLATE_FILES) files.set(to, render(readFileSync(join(templates, from), 'utf8'), slots));
  files.set('.env.example', readFileSync(join(root, '.env.example'), 'utf8'));
  if (values.examples) {
    const exampleDir = join(root, 'examples');
    for (const name of readdirSync(exampleDir)
      .filter((f) => /\.(ts|js|mjs)$/.test(f))
      .sort()) {
      files.set(join('examples', name), rewriteExample(readFileSync(join(exampleDir, name), 'utf8')));
    }
  }
  const code = [...files].filter(([file]) => /\.(ts|js|mjs)$/.test(file)).map(([, text]) => text);
  const devDependencies = {
    typescript: pkg.devDependencies?.typescript ?? '^5.0.0',
    '@types/node': pkg.devDependencies?.['@types/node'] ?? '^20.0.0',
  };
  const manifest = projectPackageJson(
    join(dir, 'package.json'),
    slots.name,
    dependenciesOf(code, root, pkg),
    devDependencies,
  );

  const existing = [...files.keys()].filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0 && !values.force) {
    throw new CliError(
      `${relative(io.cwd, dir) || '.'} already has ${existing.join(', ')}; nothing was written`,
      [],
      'use --force to overwrite them (package.json is kept and completed either way), or choose an empty folder',
    );
  }

  for (const [file, text] of [...files, ['package.json', manifest.text] as const]) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }

  const shown = relative(io.cwd, dir) || '.';
  println(
    io,
    `${mark.ok(io)} Created a project in ${shown}${existing.length ? ` (overwrote ${existing.join(', ')})` : ''}:`,
  );
  for (const file of [...files.keys()].filter((f) => !f.startsWith('examples'))) println(io, `    ${file}`);
  if (values.examples)
    println(
      io,
      `    examples/ (${[...files.keys()].filter((f) => f.startsWith('examples')).length} files, importing from 'automesh')`,
    );
  const kept = manifest.kept
    ? ` (yours, kept; ${manifest.added.length ? `added ${manifest.added.join(', ')}` : 'it had everything'})`
    : '';
  println(io, `    package.json${kept}`);
  println(io);
  println(io, 'Next:');
  if (shown !== '.') println(io, `  cd ${shown}`);
  println(io, '  npm install');
  println(io, '  cp .env.example .env      # configure one provider (CLAUDE_API_KEY, LLM_ENDPOINT, ...)');
  const start = manifest.startScript === 'start' ? 'npm start' : `npm run ${manifest.startScript}`;
  println(io, `  ${start.padEnd(24)}  # runs main.ts`);
  println(io, '  npx automesh run --agents ./agents.ts workflow.json');
  println(
    io,
    paint(io, 'dim', `automesh is not on the npm registry yet; package.json installs it from ${root} (file:).`),
  );
  return 0;
}

export const initCommand: Command = { name: 'init', help: HELP, options: OPTIONS, run };
