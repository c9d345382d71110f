// Standalone local LLM server for tests that run the CLI in subprocesses.
//
//   node --import tsx test/llm-server/main.ts [--port N]
//
// Prints one line `LLM_SERVER_URL=http://127.0.0.1:PORT` on stdout once it listens, then serves until SIGTERM or
// SIGINT (exit code 0). Drive it with the control API (see server.ts):
//   POST /__control/script { provider, replies }   POST /__control/reset   GET /__control/requests?provider=x
import { LlmServer } from './server.js';

/** The port from `[--port N]` or `[--port=N]` (0, any free port, when absent); anything else is refused. */
function parsePort(argv: string[]): number {
  if (argv.length === 0) return 0;
  const [arg = '', next] = argv;
  let value: string | undefined;
  if (arg === '--port' && argv.length <= 2) value = next;
  else if (arg.startsWith('--port=') && argv.length === 1) value = arg.slice('--port='.length);
  else throw new Error(`llm-server: unknown arguments ${JSON.stringify(argv.join(' '))} (usage: main.ts [--port N])`);
  const port = Number(value);
  if (value === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`llm-server: --port needs an integer 0-65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const server = await LlmServer.start({ port: parsePort(process.argv.slice(2)) });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`LLM_SERVER_URL=${server.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
