/**
 * A real nats-server (Debian's package, 2.9.10 is enough) for tests: JetStream on, loopback only, a random free
 * port, a temporary store removed by `stop()`. `restart()` keeps the port and the store (a broker restart);
 * `kill()` is SIGKILL. Extra config (auth, system account) goes in `config`, in nats-server's config syntax.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The server's process id (for SIGSTOP/SIGKILL tests). */
  readonly pid: number;
  restart(): Promise<void>;
  /** SIGKILL, without removing the store (restart() brings it back). */
  kill(): Promise<void>;
  /** Stops the server and removes its store and config. */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Extra lines of server config (e.g. `authorization { token: "s3cret" }` or an `accounts {}` block). */
  config?: string;
}

const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** Whether a nats-server binary runs here; tests that need one say how to install it when not. */
export function natsServerAvailable(): boolean {
  return spawnSync(BINARY, ['--version'], { encoding: 'utf8' }).status === 0;
}

export const NATS_MISSING =
  'nats-server is not installed: `apt-get install -y nats-server` (Debian) or set NATS_SERVER_BIN to its path.';

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'automesh-nats-'));
  const configFile = join(dir, 'server.conf');
  let port = -1;
  let child: ChildProcess;
  const writeConfig = (): void => {
    writeFileSync(
      configFile,
      [
        'host: 127.0.0.1',
        `port: ${port}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))} }`,
        options.config ?? '',
      ].join('\n'),
    );
  };
  const launch = async (): Promise<void> => {
    writeConfig();
    child = spawn(BINARY, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    port = await listeningPort(child);
  };
  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child.pid ?? -1;
    },
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    kill: () => halt('SIGKILL'),
    async stop() {
      try {
        await halt('SIGTERM');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Waits for "Listening for client connections on 127.0.0.1:PORT" and returns PORT. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`nats-server did not start within 10 s:\n${log}`)), 10_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', (err) => fail(new Error(`nats-server could not be run (${err.message}). ${NATS_MISSING}`)));
    child.once('exit', (code) => fail(new Error(`nats-server exited with ${code} before it was ready:\n${log}`)));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
      const match = /Listening for client connections on [^\s]+:(\d+)/.exec(log);
      if (match && /Server is ready/.test(log)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve(Number(match[1]));
      }
    });
  });
}
