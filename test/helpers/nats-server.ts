/**
 * A real nats-server (Debian's package, 2.9.10 is enough) for tests: JetStream on, loopback only, a random free
 * port, a temporary store removed by `stop()`. `restart()` keeps the port and the store (a broker restart), or
 * empties the store in between; `kill()` is SIGKILL. Extra config (auth, system account) goes in `config`, in
 * nats-server's config syntax.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LocalNatsServer,
  NATS_SERVER_INSTALL_HINT,
  natsServerVersion,
  startLocalNatsServer,
} from '../../src/transport/local-nats-server.js';

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The server's process id (for SIGSTOP/SIGKILL tests). */
  readonly pid: number;
  /** Stops and starts again on the same port; `{ loseStore: true }` empties the store in between (a lost disk). */
  restart(options?: { loseStore?: boolean }): Promise<void>;
  /** SIGKILL, without removing the store (restart() brings it back). */
  kill(): Promise<void>;
  /** Stops the server and removes its store and config. */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Extra lines of server config (e.g. `authorization { token: "s3cret" }` or an `accounts {}` block). */
  config?: string;
}

/** Whether a nats-server binary runs here; tests that need one say how to install it when not. */
export function natsServerAvailable(): boolean {
  return natsServerVersion() !== null;
}

export const NATS_MISSING = `nats-server is not installed. ${NATS_SERVER_INSTALL_HINT}`;

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'automesh-nats-'));
  const storeDir = join(dir, 'store');
  mkdirSync(storeDir);
  let port = -1;
  let server: LocalNatsServer;
  const launch = async (): Promise<void> => {
    server = await startLocalNatsServer({ storeDir, port, ...(options.config ? { config: options.config } : {}) });
    port = server.port;
  };
  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    get url() {
      return server.url;
    },
    get port() {
      return port;
    },
    get pid() {
      return server.process.pid ?? -1;
    },
    async restart(restartOptions = {}) {
      await server.stop();
      if (restartOptions.loseStore) {
        rmSync(storeDir, { recursive: true, force: true });
        mkdirSync(storeDir);
      }
      await launch();
    },
    kill: () => server.stop('SIGKILL'),
    async stop() {
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
