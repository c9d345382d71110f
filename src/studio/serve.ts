/** The studio on its own node:http server (what `automesh studio` runs). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertExposable } from './auth.js';
import { createStudio, type StudioOptions } from './handler.js';

export interface StudioServerOptions extends StudioOptions {
  /** Address to listen on (default 127.0.0.1). Any non-loopback address needs `token`. */
  host?: string;
  /** Port (default 8100; 0 picks a free one). */
  port?: number;
}

export interface StudioServer {
  /** `http://host:port/` of the page. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/`;
}

/** Starts the studio; refuses a non-loopback `host` without a token before it listens. */
export async function serveStudio(options: StudioServerOptions): Promise<StudioServer> {
  const host = options.host ?? '127.0.0.1';
  assertExposable(host, options.token);
  const studio = createStudio(options);
  const server = createServer((req, res) => {
    studio.handle(req, res).then(
      (answered) => {
        if (!answered) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      },
      (error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${(error as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8100, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: urlOf(server.address() as AddressInfo),
    server,
    close: () =>
      new Promise<void>((resolve) => {
        studio.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
