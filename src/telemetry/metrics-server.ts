/**
 * The Prometheus endpoint: a Node request handler for `GET /metrics` (what `automesh serve` or a user's own HTTP
 * server mounts), and the small server a node runs with it when `METRICS_PORT` is set.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MeshMetrics } from './metrics.js';

/** Answers `GET /metrics` (and HEAD) with the metrics' text; any other path 404, any other method 405. */
export function metricsRequestHandler(
  metrics: MeshMetrics,
  path = '/metrics',
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`Not found: the metrics are at ${path}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end(`${request.method} is not allowed on ${path}: use GET\n`);
      return;
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`The metrics could not be rendered: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 0: any free one); a port in use is an error that names METRICS_PORT. */
export function startMetricsServer(metrics: MeshMetrics, port: number, host: string): Promise<MetricsServer> {
  const server = createServer(metricsRequestHandler(metrics));
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${port} is already in use (another node or mesh of this machine?); set METRICS_PORT to a free port, or 0 for any`
          : err.code === 'EADDRNOTAVAIL'
            ? `${host} is no address of this machine; set METRICS_HOST to one (127.0.0.1, or 0.0.0.0 for every interface)`
            : err.message;
      reject(new Error(`The metrics endpoint (METRICS_PORT=${port}, METRICS_HOST=${host}) could not listen: ${why}.`));
    });
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${bound}/metrics`,
        port: bound,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
