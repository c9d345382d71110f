/**
 * `automesh serve`: the agents of an agents file as an HTTP service (tasks, workflows with live progress, health),
 * until Ctrl-C or SIGTERM, which stop the server and then the mesh. Node's own http server: the CLI needs no web
 * framework (hono and fastify stay optional, for those who mount automesh in their own app).
 */

import { isAutomeshError } from '../../core/errors.js';
import { exposureProblem } from '../../server/auth.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../server/body.js';
import { serveMesh } from '../../server/serve.js';
import { defaultAgentsFile, meshOfAgentsFile } from '../agents-mesh.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, eprintln, type Io, paint, println, UsageError } from '../io.js';
import { cliSettings } from '../setup.js';

const HELP = `Usage: automesh serve [--agents FILE] [--port N] [--host H] [--max-body BYTES]

Serve the agents of an agents file over HTTP until Ctrl-C:
  POST /agents/NAME/tasks      {"task": "...", "context"?: {...}, "session"?: {...}}  → the envelope
  POST /workflows              {"id"?, "steps": [...], "fresh"?, "wait"?}  → 202 {id, links} (wait: the result)
  GET  /workflows/ID           the workflow's state: each step's status and envelope, the summary
  GET  /workflows/ID/events    its progress as server-sent events
  GET  /health                 node, transport, connection, peers, last errors

The service runs model-written code on request: it listens on 127.0.0.1 unless told otherwise, and another address
needs SERVE_TOKEN (environment or .env), which every request then sends as "Authorization: Bearer <token>".

Options:
  --agents FILE     the module that exports your agents, as for automesh run (default: ./agents.ts or ./agents.js)
  --port N          the port (default 8000; 0 picks a free one, printed)
  --host H          the address to listen on (default 127.0.0.1); another one needs SERVE_TOKEN
  --max-body BYTES  the largest request body (default ${DEFAULT_MAX_BODY_BYTES}, 1 MiB); a larger one gets 413

Examples:
  automesh serve --agents ./agents.ts
  curl -s localhost:8000/agents/calculator/tasks -H 'content-type: application/json' \\
       -d '{"task": "Calculate the factorial of 10"}'
  SERVE_TOKEN=$(openssl rand -hex 32) automesh serve --host 0.0.0.0 --port 8080`;

const OPTIONS = {
  agents: { type: 'string' },
  port: { type: 'string', default: '8000' },
  host: { type: 'string', default: '127.0.0.1' },
  'max-body': { type: 'string' },
} as const;

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}; got "${text}"`);
  return value;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('serve', { args, options: OPTIONS, allowPositionals: false });
  const port = wholeNumber('--port', values.port, 0, 65535);
  const maxBodyBytes =
    values['max-body'] === undefined ? undefined : wholeNumber('--max-body', values['max-body'], 1, 1 << 30);
  // Before anything loads: an exposed address without a token is refused at once.
  const token = cliSettings(io).settings.SERVE_TOKEN;
  const exposed = exposureProblem(values.host, token);
  if (exposed)
    throw new CliError(exposed, [], 'e.g. SERVE_TOKEN=$(openssl rand -hex 32) automesh serve --host 0.0.0.0');
  const file = values.agents ?? defaultAgentsFile(io, 'serve', 'e.g. automesh serve --agents ./src/agents.ts');
  const { mesh, loaded } = await meshOfAgentsFile(io, file, { telemetry: true });
  const log = (line: string): void => eprintln(io, line);
  let server: Awaited<ReturnType<typeof serveMesh>>;
  try {
    server = await serveMesh(mesh, {
      host: values.host,
      port,
      log,
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    });
  } catch (err) {
    if (isAutomeshError(err, 'serve')) throw new CliError((err as Error).message);
    throw err;
  }
  const roles = loaded.agents.map((entry) => (entry.agent as { role?: unknown }).role ?? entry.source);
  println(io, `${paint(io, 'green', 'automesh serve')}: ${server.url} (${loaded.file}: ${roles.join(', ')})`);
  println(io, `  try: curl -s ${server.url}/health${token ? ' -H "Authorization: Bearer $SERVE_TOKEN"' : ''}`);
  println(io, 'Ctrl-C stops it.');
  const signal = await untilSignal();
  eprintln(io, `${signal}: stopping (requests in flight finish first)…`);
  await server.close();
  println(io, 'automesh serve stopped.');
  return 0;
}

export const serveCommand: Command = { name: 'serve', help: HELP, options: OPTIONS, run };
