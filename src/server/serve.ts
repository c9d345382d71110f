/**
 * A mesh served over HTTP with Node's own http server, the lifespan included: `serveMesh` starts the mesh, then
 * listens; `close()` stops listening, ends the event streams and stops the mesh (work in flight is waited for, or
 * cancelled with MESH_STOP_MODE=cancel). It refuses to listen beyond loopback without an access token.
 * `automesh serve` is this; the Hono integration listens the same way with Hono's request listener.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AutomeshError } from '../core/errors.js';
import type { Mesh } from '../mesh/mesh.js';
import { exposureProblem } from './auth.js';
import { sendWebResponse, toWebRequest } from './node-http.js';
import { createMeshHandler, type MeshHandler, type MeshHandlerOptions } from './routes.js';
import { mountStudio } from './studio-mount.js';

export interface ListenOptions {
  /** The address to listen on (default 127.0.0.1: this machine only); another needs a token. */
  host?: string;
  /** The port (default 8000; 0 picks a free one). */
  port?: number;
  /** The access token; default the SERVE_TOKEN setting. */
  token?: string;
}

export interface ServeOptions extends ListenOptions, Omit<MeshHandlerOptions, 'token' | 'basePath'> {
  /** The web dashboard under /studio/ (default true). */
  studio?: boolean;
}

export interface MeshServer {
  /** Where it listens, e.g. http://127.0.0.1:8000. */
  url: string;
  server: Server;
  /** Stops listening, then stops the mesh; resolves when both are done. */
  close(): Promise<void>;
}

/** Thrown when the service will not start: a non-loopback address without a token, a port in use. Code `serve`. */
export class ServeError extends AutomeshError<'serve'> {
  constructor(message: string) {
    super('serve', message);
    this.name = 'ServeError';
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ServeError(
          err.code === 'EADDRINUSE'
            ? `Port ${port} on ${host} is in use: stop what listens there, or pick another port (--port).`
            : `Could not listen on ${host}:${port}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Stops listening and resolves when every connection has closed. A keep-alive connection whose last response (an
 * event stream ended by the close, a task finishing) ends after the close began goes idle then: idle connections
 * are closed as they come, not after the keep-alive timeout.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Starts the mesh, checks the address against the token, and listens with `listener`; on any failure the mesh is
 * stopped again. `onClose` runs first when closing (ending what keeps connections open).
 */
export async function listenWithMesh(
  mesh: Mesh,
  listener: RequestListener,
  options: ListenOptions & { onClose?: () => void },
): Promise<MeshServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8000;
  await mesh.start();
  const server = createServer(listener);
  try {
    const problem = exposureProblem(host, options.token ?? mesh.settings.SERVE_TOKEN);
    if (problem) throw new ServeError(problem);
    await listen(server, port, host);
  } catch (err) {
    await mesh.stop();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close() {
      closed ??= (async () => {
        const stopped = closeServer(server);
        options.onClose?.();
        await Promise.all([stopped, mesh.stop()]);
      })();
      return closed;
    },
  };
}

/** The Node request listener of a handler: 404 for a path that is not the service's. */
export function nodeListener(handler: MeshHandler): RequestListener {
  return (req, res) => {
    const request = toWebRequest(req, res);
    const connection = req.socket.localAddress ? { localAddress: req.socket.localAddress } : {};
    handler
      .handle(request, connection)
      .then((response) =>
        sendWebResponse(
          res,
          response
            ?? Response.json(
              { error: 'not_found', message: `No route ${req.method} ${new URL(request.url).pathname}.` },
              { status: 404 },
            ),
        ),
      )
      .catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
  };
}

/** Serves `mesh` over HTTP: starts it, listens (127.0.0.1:8000 by default), and stops both on `close()`. */
export async function serveMesh(mesh: Mesh, options: ServeOptions = {}): Promise<MeshServer> {
  const { host, port, token, studio: withStudio = true, ...handlerOptions } = options;
  const handler = createMeshHandler(mesh, { ...handlerOptions, ...(token !== undefined ? { token } : {}) });
  const studio = withStudio ? mountStudio(mesh, token) : null;
  const close = (): void => {
    studio?.close();
    handler.close();
  };
  try {
    const listener = nodeListener(handler);
    return await listenWithMesh(mesh, studio ? studio.wrap(listener) : listener, {
      ...(host !== undefined ? { host } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(token !== undefined ? { token } : {}),
      onClose: close,
    });
  } catch (err) {
    close();
    throw err;
  }
}
