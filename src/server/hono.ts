/**
 * automesh in a Hono app on Node (`automesh/hono`), the lifespan included: the mesh starts with the server and stops
 * when it closes.
 *
 *     const api = automesh(mesh);                         // or automesh(mesh, { basePath: '/mesh' })
 *     const app = new Hono().use(api.middleware);         // requests for other paths go on to your routes
 *     const server = await api.listen(app, { port: 8000 });   // server.close() stops listening, then the mesh
 *
 * Needs `hono` and `@hono/node-server` (optional peer dependencies).
 */
import { getRequestListener } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import type { Mesh } from '../mesh/mesh.js';
import { createMeshHandler, type MeshHandlerOptions } from './routes.js';
import { type ListenOptions, listenWithMesh, type MeshServer } from './serve.js';

export type { MeshServer } from './serve.js';

export interface AutomeshHono {
  /** Serves the mesh's routes (under `basePath`); other requests go on to the next handler. */
  middleware: MiddlewareHandler;
  /**
   * Starts the mesh, then listens with `app` (127.0.0.1:8000 by default; another address needs the token). The
   * server's `close()` ends the event streams, stops listening and stops the mesh.
   */
  listen(
    app: { fetch: (request: Request, env: never) => Response | Promise<Response> },
    options?: Omit<ListenOptions, 'token'>,
  ): Promise<MeshServer>;
  /** Ends the event streams and stops listening to the mesh (for a server you run yourself). */
  close(): void;
}

export function automesh(mesh: Mesh, options: MeshHandlerOptions = {}): AutomeshHono {
  const handler = createMeshHandler(mesh, options);
  const middleware: MiddlewareHandler = async (c, next) => {
    const incoming = (c.env as { incoming?: { socket?: { localAddress?: string } } } | undefined)?.incoming;
    const localAddress = incoming?.socket?.localAddress;
    const response = await handler.handle(c.req.raw, localAddress ? { localAddress } : {});
    if (response === null) return next();
    return response;
  };
  return {
    middleware,
    listen(app, listenOptions = {}) {
      const listener = getRequestListener(app.fetch as Parameters<typeof getRequestListener>[0]);
      return listenWithMesh(mesh, listener as Parameters<typeof listenWithMesh>[1], {
        ...listenOptions,
        ...(options.token !== undefined ? { token: options.token } : {}),
        onClose: () => handler.close(),
      });
    },
    close: () => handler.close(),
  };
}
