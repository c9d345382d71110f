/**
 * Runs a nats-server on this machine, for development (`automesh mesh up`) and for tests: JetStream on, loopback
 * unless told otherwise (OpenAgentMesh's own `mesh up` binds every interface), the store in a given directory.
 * Resolves once the server says it is ready, with the port it listens on (port -1 lets the server pick a free one).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalNatsServerOptions {
  /** The binary (default: `NATS_SERVER_BIN`, else `nats-server` on PATH). */
  binary?: string;
  host?: string;
  /** -1: a free port. */
  port?: number;
  /** JetStream's store directory; the config file is written beside it. */
  storeDir: string;
  /** Extra lines of server config (auth, accounts, TLS), in nats-server's config syntax. */
  config?: string;
  /** Where the server's log goes (default: kept only to explain a failed start). */
  log?: (chunk: string) => void;
  /**
   * Its own process group, so a Ctrl-C at the terminal (SIGINT to the whole foreground group) reaches only the
   * parent, which can stop the processes using the server before it stops the server.
   */
  ownProcessGroup?: boolean;
}

export interface LocalNatsServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** Resolves when the process has exited (after stop(), or on its own). */
  readonly exited: Promise<number | null>;
  /** SIGTERM (or `signal`) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export const NATS_SERVER_INSTALL_HINT =
  'Install nats-server 2.9 or later: `apt-get install nats-server` (Debian/Ubuntu), `brew install nats-server` '
  + '(macOS), or a release binary from https://github.com/nats-io/nats-server/releases on your PATH '
  + '(or set NATS_SERVER_BIN to its path).';

export function natsServerBinary(binary?: string): string {
  return binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
}

/** The server's version line, or null when no runnable binary is there. */
export function natsServerVersion(binary?: string): string | null {
  const run = spawnSync(natsServerBinary(binary), ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : null;
}

export async function startLocalNatsServer(options: LocalNatsServerOptions): Promise<LocalNatsServer> {
  const host = options.host ?? '127.0.0.1';
  const configFile = join(options.storeDir, '..', `${basenameOf(options.storeDir)}.conf`);
  writeFileSync(
    configFile,
    [
      `host: ${JSON.stringify(host)}`,
      `port: ${options.port ?? -1}`,
      `jetstream { store_dir: ${JSON.stringify(options.storeDir)} }`,
      options.config ?? '',
    ].join('\n'),
  );
  const child = spawn(natsServerBinary(options.binary), ['-c', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.ownProcessGroup === true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await readyPort(child, options.log);
  const display = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `nats://${display}:${port}`,
    port,
    process: child,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

function basenameOf(path: string): string {
  return (
    path
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() || 'nats'
  );
}

/** Waits for "Server is ready" and returns the client port the server printed. */
function readyPort(child: ChildProcess, log?: (chunk: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`nats-server did not become ready within 10 s:\n${text}`)), 10_000);
    child.once('error', (err) =>
      fail(new Error(`nats-server could not be run (${err.message}). ${NATS_SERVER_INSTALL_HINT}`)),
    );
    const early = (code: number | null): void =>
      fail(new Error(`nats-server exited with code ${code} before it was ready:\n${text}`));
    child.once('exit', early);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log?.(chunk);
      if (settled) return;
      text += chunk;
      const match = /Listening for client connections on \S+:(\d+)/.exec(text);
      if (match && text.includes('Server is ready')) {
        settled = true;
        clearTimeout(timer);
        child.off('exit', early);
        resolve(Number(match[1]));
      }
    });
  });
}
