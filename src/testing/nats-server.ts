/**
 * A private nats-server for a test (`automesh/testing`): JetStream on, loopback only, a free port the server picks,
 * a temporary store removed by `stop()`. It needs the nats-server binary (2.9 or later) on PATH or in
 * `NATS_SERVER_BIN`; {@link natsServerSkip} is the reason to skip a test where there is none.
 *
 *     import { natsServerSkip, startNatsServer } from 'automesh/testing';
 *     test('on NATS', { skip: natsServerSkip() }, async () => {
 *       const nats = await startNatsServer();
 *       try { ... new Mesh({ config: { NATS_URL: nats.url } }) ... } finally { await nats.stop(); }
 *     });
 *
 * `restart()` keeps the port and the store (a broker restart), or empties the store in between; `kill()` is SIGKILL.
 * Extra config (auth, a system account) goes in `config`, in nats-server's config syntax.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LocalNatsServer,
  NATS_SERVER_INSTALL_HINT,
  natsServerVersion,
  startLocalNatsServer,
} from '../transport/local-nats-server.js';

export interface NatsServer {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The server's process id (for SIGSTOP/SIGKILL tests). */
  readonly pid: number;
  /** JetStream's store, in a temporary folder that `stop()` removes. */
  readonly storeDir: string;
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
  /** The binary (default: `NATS_SERVER_BIN`, else `nats-server` on PATH). */
  binary?: string;
}

/** Whether a nats-server binary runs here. */
export function natsServerAvailable(binary?: string): boolean {
  return natsServerVersion(binary) !== null;
}

export const NATS_MISSING = `nats-server is not installed. ${NATS_SERVER_INSTALL_HINT}`;

/** For node:test's `{ skip }`: false when a nats-server runs here, else the reason, saying how to install one. */
export function natsServerSkip(binary?: string): false | string {
  return natsServerAvailable(binary) ? false : NATS_MISSING;
}

/** Starts a nats-server of the test's own; resolves once it takes connections. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'automesh-nats-'));
  const storeDir = join(dir, 'store');
  mkdirSync(storeDir);
  let port = -1;
  let server: LocalNatsServer;
  const launch = async (): Promise<void> => {
    server = await startLocalNatsServer({
      storeDir,
      port,
      ...(options.config ? { config: options.config } : {}),
      ...(options.binary ? { binary: options.binary } : {}),
    });
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
    storeDir,
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
