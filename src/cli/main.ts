#!/usr/bin/env node
/**
 * `automesh`: check the setup, run a smoke test, scaffold a project, run tasks and workflows, inspect the
 * registry and the result logs, start a local mesh server, list and call the agents on the mesh, serve agents over HTTP. Exit code 0 on
 * success, 1 on any problem.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closestName } from '../config/suggest.js';
import { isAutomeshError } from '../core/errors.js';
import type { Command } from './command.js';
import { eprintln, type Io, isCliError, paint, printJson, println, processIo, UsageError } from './io.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = (here + sep).includes(`${sep}dist${sep}src${sep}`) ? resolve(here, '../../..') : resolve(here, '../..');

/**
 * A verb as `automesh --help` lists it. Its module, and all it imports (the provider SDKs, esbuild, the
 * sandbox, the store), loads only when the verb runs or shows its own help: `--help` and `--version` load none.
 */
interface Verb {
  name: string;
  /** One line for `automesh --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const VERBS: readonly Verb[] = [
  {
    name: 'check',
    summary: 'check Node.js, the sandbox, .env and the LLM providers (--validate-llm: live calls)',
    load: async () => (await import('./commands/check.js')).checkCommand,
  },
  {
    name: 'smoketest',
    summary: 'an agent computes 2 + 2 through the chain, the sandbox, the registry and the result log',
    load: async () => (await import('./commands/smoketest.js')).smoketestCommand,
  },
  {
    name: 'init',
    summary: 'create a runnable project (agents.ts, main.ts, .env.example)',
    load: async () => (await import('./commands/init.js')).initCommand,
  },
  {
    name: 'run',
    summary: 'run a task or a workflow file with live progress',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  {
    name: 'registry',
    summary: 'list, show, search or remove registered code',
    load: async () => (await import('./commands/registry.js')).registryCommand,
  },
  {
    name: 'logs',
    summary: 'list, show or export the results of tasks',
    load: async () => (await import('./commands/logs.js')).logsCommand,
  },
  {
    name: 'stats',
    summary: 'tasks, success rates, repairs, registry hits, tokens and cost by agent and model (--since 1d)',
    load: async () => (await import('./commands/stats.js')).statsCommand,
  },
  {
    name: 'studio',
    summary: 'a web dashboard: workflows live, envelopes, the registry, cost and repairs (--log-dir or --nats)',
    load: async () => (await import('./commands/studio.js')).studioCommand,
  },
  {
    name: 'mesh',
    summary: 'mesh up: a local NATS server for agents in several processes (development)',
    load: async () => (await import('./commands/mesh.js')).meshCommand,
  },
  {
    name: 'agents',
    summary: 'list the agents on the mesh (NATS_URL): name, shape, node, tags',
    load: async () => (await import('./commands/agents.js')).agentsCommand,
  },
  {
    name: 'serve',
    summary: 'serve the agents of an agents file over HTTP: tasks, workflows, live progress (SSE), health',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  {
    name: 'call',
    summary: 'call an agent on the mesh with a JSON input (--stream: print chunks as they arrive)',
    load: async () => (await import('./commands/call.js')).callCommand,
  },
];

/** Every verb's command, loaded (its help and options; tests and docs checks). */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(VERBS.map((verb) => verb.load()));
}

function version(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function mainHelp(io: Io): string {
  const width = Math.max(...VERBS.map((c) => c.name.length));
  return [
    `${paint(io, 'bold', 'automesh')} ${version()}: code-generating agents that run their code in a secure sandbox`,
    '',
    'Usage: automesh <command> [options]',
    '',
    'Commands:',
    ...VERBS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     help for automesh or a command (automesh <command> --help)',
    '  -v, --version  print the version',
    '',
    'Start with: automesh check, then automesh smoketest.',
  ].join('\n');
}

/** Prints a failure: one line (and its details), then a hint; with --json one object on stdout instead. */
function reportFailure(io: Io, err: unknown, json: boolean, verb: string | null): void {
  const message = err instanceof Error ? err.message : String(err);
  const usage = isAutomeshError(err, 'usage');
  const details = isCliError(err) ? err.details : [];
  const hint = isCliError(err)
    ? (err.hint ?? (usage ? `automesh ${verb ?? ''}${verb ? ' ' : ''}--help shows how to use it` : null))
    : null;
  if (json) {
    printJson(io, { ok: false, error: message, kind: usage ? 'usage' : 'error', details, hint });
    return;
  }
  eprintln(io, `${paint(io, 'red', 'error:')} ${message}`);
  for (const line of details) eprintln(io, `  - ${line}`);
  if (hint) eprintln(io, `${paint(io, 'yellow', 'hint:')} ${hint}`);
  if (io.env.AUTOMESH_DEBUG && err instanceof Error && err.stack && !isCliError(err)) eprintln(io, err.stack);
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    const target = name === 'help' ? VERBS.find((c) => c.name === rest[0]) : undefined;
    println(io, target ? (await target.load()).help : mainHelp(io));
    return 0;
  }
  if (name === '-v' || name === '--version') {
    println(io, version());
    return 0;
  }
  const verb = VERBS.find((c) => c.name === name);
  if (!verb) {
    const guess = closestName(
      name,
      VERBS.map((c) => c.name),
    );
    reportFailure(
      io,
      new UsageError(
        `unknown command "${name}"`,
        `${guess ? `did you mean ${guess}? ` : ''}the commands are ${VERBS.map((c) => c.name).join(', ')} (automesh --help)`,
      ),
      json,
      null,
    );
    return 1;
  }
  const command = await verb.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    println(io, command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    reportFailure(io, err, json, command.name);
    return 1;
  }
}

function invokedDirectly(): boolean {
  // Through npm's bin link argv[1] is the link; compare real paths.
  try {
    return (
      process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // `automesh check | head` closes the pipe early: that is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`automesh: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
