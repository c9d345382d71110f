/** `automesh mesh up`: a local nats-server with JetStream for development, until Ctrl-C. */

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  NATS_SERVER_INSTALL_HINT,
  natsServerVersion,
  startLocalNatsServer,
} from '../../transport/local-nats-server.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, eprintln, type Io, paint, println, UsageError } from '../io.js';
import { cliSettings } from '../setup.js';

const HELP = `Usage: automesh mesh up [--port N] [--host H] [--store DIR]

Start a local NATS server (JetStream on) for development: agents in other processes and on other machines
find and call each other through it. It runs until Ctrl-C. Point every process at it with NATS_URL.

Options:
  --port N     the client port (default 4222)
  --host H     the address to listen on (default 127.0.0.1: this machine only). Another address lets other
               machines in, with no authentication: only on a network you trust
  --store DIR  JetStream's store (default LOG_DIRECTORY/nats): the catalog, registry, shared KV and workspace
               survive a restart

Needs nats-server 2.9 or later on PATH (or NATS_SERVER_BIN). ${NATS_SERVER_INSTALL_HINT.replace('Install nats-server 2.9 or later: ', 'To install it: ')}`;

const OPTIONS = {
  port: { type: 'string', default: '4222' },
  host: { type: 'string', default: '127.0.0.1' },
  store: { type: 'string' },
} as const;

function portOf(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--port must be a whole number from 1 to 65535; got "${text}"`);
  return port;
}

async function up(io: Io, values: { port: string; host: string; store?: string }): Promise<number> {
  const port = portOf(values.port);
  const version = natsServerVersion();
  if (version === null)
    throw new CliError('nats-server is not installed (or NATS_SERVER_BIN does not run).', [], NATS_SERVER_INSTALL_HINT);
  const storeDir = resolve(io.cwd, values.store ?? resolve(cliSettings(io).settings.LOG_DIRECTORY, 'nats'));
  mkdirSync(storeDir, { recursive: true });
  const server = await startLocalNatsServer({ host: values.host, port, storeDir }).catch((err: Error) => {
    throw new CliError(
      `nats-server did not start on ${values.host}:${port}.`,
      [err.message.trim()],
      'Is the port taken (another `automesh mesh up` or nats-server)? Pick another with --port.',
    );
  });
  println(io, `${paint(io, 'green', 'NATS is up')}: ${server.url} (${version}, JetStream store ${storeDir})`);
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    eprintln(
      io,
      paint(
        io,
        'yellow',
        `Listening on ${values.host} with no authentication: anyone who reaches it can call your agents.`,
      ),
    );
  }
  println(io, `In other terminals: export NATS_URL=${server.url}`);
  println(io, 'Ctrl-C stops it.');
  // SIGINT is nats-server's clean shutdown (exit 0); SIGTERM makes it exit 1.
  const stop = (): void => void server.stop('SIGINT');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await server.exited;
  const stoppedByUs = server.process.signalCode === null && code === 0;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (!stoppedByUs) {
    eprintln(io, `nats-server exited on its own (code ${code ?? server.process.signalCode}).`);
    return 1;
  }
  println(io, 'NATS stopped.');
  return 0;
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs('mesh', { args, options: OPTIONS, allowPositionals: true });
  const [action, ...rest] = positionals;
  if (action !== 'up')
    throw new UsageError(
      action ? `Unknown mesh action "${action}"; the action is up.` : 'automesh mesh needs an action: up.',
      'automesh mesh up [--port N]',
    );
  if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}".`);
  return up(io, values);
}

export const meshCommand: Command = { name: 'mesh', help: HELP, options: OPTIONS, run };
