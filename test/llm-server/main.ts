// Standalone local LLM server for tests that run the CLI in subprocesses.
//
//   node --import tsx test/llm-server/main.ts [--port N]
//
// Prints one line `LLM_SERVER_URL=http://127.0.0.1:PORT` on stdout once it listens, then serves until SIGTERM or
// SIGINT (exit code 0). Drive it with the control API (see server.ts):
//   POST /__control/script { provider, replies }   POST /__control/reset   GET /__control/requests?provider=x
import { LlmServer } from './server.js';

function parsePort(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    let value: string | undefined;
    if (arg === '--port') value = argv[++i];
    else if (arg.startsWith('--port=')) value = arg.slice('--port='.length);
    else throw new Error(`llm-server: unknown argument ${JSON.stringify(arg)} (usage: main.ts [--port N])`);
    const port = Number(value);
    if (value === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`llm-server: --port needs an integer 0-65535, got ${JSON.stringify(value)}`);
    }
    return port;
  }
  return 0;
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
