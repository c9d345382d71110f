/** `automesh studio`: the web dashboard over a log directory or a NATS mesh, until Ctrl-C. */

import { join, resolve } from 'node:path';
import { readEnvFile } from '../../config/env-file.js';
import { secretsOf } from '../../llm/redact.js';
import { StudioExposureError, serveStudio } from '../../studio/index.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, type Io, paint, println, UsageError } from '../io.js';
import { cliSettings } from '../setup.js';
import { logDirSource, meshSource, type OpenedSource } from '../studio-source.js';

const HELP = `Usage: automesh studio [--port N] [--host H] [--log-dir D | --nats URL]

A web dashboard: the agents and their nodes, each workflow's graph with its steps' states live as it runs, each
step's envelope (output, code, attempts with the model's raw replies, errors, tokens, cost), the code registry
(search, stages, counts, code), results over time with the cost per agent and per model, and the repair loop's
numbers. It only reads. It runs until Ctrl-C.

Options:
  --port N      the port (default 8100; 0 picks a free one)
  --host H      the address to listen on (default 127.0.0.1: this machine only). Any other address needs
                SERVE_TOKEN (environment or .env): the page is then opened as http://H:N/#token=<SERVE_TOKEN>
                and every data request carries it as a bearer token
  --log-dir D   read the database D/automesh.db (default LOG_DIRECTORY, ./logs)
  --nats URL    read a NATS mesh: workflows and the registry from its KV buckets, the agents and their nodes
                from its live catalog; results and numbers from this machine's LOG_DIRECTORY (or --log-dir)

Examples:
  automesh studio
  automesh studio --log-dir /srv/automesh/logs --port 9000
  automesh studio --nats nats://127.0.0.1:4222`;

const OPTIONS = {
  port: { type: 'string', default: '8100' },
  host: { type: 'string', default: '127.0.0.1' },
  'log-dir': { type: 'string' },
  nats: { type: 'string' },
} as const;

function portOf(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535; got "${text}"`);
  return port;
}

/** SERVE_TOKEN from the environment, else from .env; undefined when unset or empty. */
function serveToken(io: Io): string | undefined {
  const value = io.env.SERVE_TOKEN ?? readEnvFile(join(io.cwd, '.env')).SERVE_TOKEN;
  return value ? value : undefined;
}

/** Resolves when the process is asked to stop (Ctrl-C or SIGTERM). */
function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('studio', { args, options: OPTIONS, allowPositionals: false });
  const port = portOf(values.port);
  const { settings } = cliSettings(io);
  const token = serveToken(io);
  const logDir = resolve(io.cwd, values['log-dir'] ?? settings.LOG_DIRECTORY);
  if (values.nats !== undefined && !/^(nats|tls|wss?):\/\//.test(values.nats))
    throw new UsageError(`--nats must be a NATS URL such as nats://127.0.0.1:4222; got "${values.nats}"`);
  let opened: OpenedSource | null = null;
  try {
    opened = values.nats ? await meshSource(settings, values.nats, logDir) : logDirSource(logDir);
    const studio = await serveStudio({
      source: opened.source,
      host: values.host,
      port,
      ...(token ? { token } : {}),
      secrets: secretsOf(settings),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err instanceof StudioExposureError)
        throw new CliError(err.message, [], 'set SERVE_TOKEN (a long random string), or keep --host 127.0.0.1');
      if (err.code === 'EADDRINUSE')
        throw new CliError(`Port ${port} on ${values.host} is in use.`, [], 'pick another with --port N');
      throw err;
    });
    println(io, `${paint(io, 'green', 'Studio')} at ${studio.url} (reading ${opened.source.location})`);
    if (token) println(io, 'Open it as <url>#token=<SERVE_TOKEN>: every data request needs the token.');
    println(io, 'Ctrl-C stops it.');
    await stopRequested();
    await studio.close();
    println(io, 'Studio stopped.');
    return 0;
  } finally {
    await opened?.close();
  }
}

export const studioCommand: Command = { name: 'studio', help: HELP, options: OPTIONS, run };
