/**
 * automesh as a Fastify plugin (`automesh/fastify`), the lifespan included: the mesh starts when the app is ready
 * and stops when it closes.
 *
 *     const app = Fastify();
 *     await app.register(automesh, { mesh });             // with { prefix: '/mesh' } under a prefix
 *     await app.listen({ port: 8000 });                   // app.close() ends the event streams, then stops the mesh
 *
 * The plugin's routes read their own bodies (the size limit and the JSON checks are the service's), so it replaces
 * Fastify's body parsers inside its own scope only. Needs `fastify` (an optional peer dependency).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Mesh } from '../mesh/mesh.js';
import { sendWebResponse, toWebRequest } from './node-http.js';
import { createMeshHandler, type MeshHandlerOptions, SERVICE_PATHS } from './routes.js';

export interface AutomeshFastifyOptions extends Omit<MeshHandlerOptions, 'basePath'> {
  mesh: Mesh;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const plugin: FastifyPluginAsync<AutomeshFastifyOptions> = async (fastify: FastifyInstance, options) => {
  const { mesh, ...handlerOptions } = options;
  const handler = createMeshHandler(mesh, { ...handlerOptions, basePath: fastify.prefix });
  fastify.addHook('onReady', async () => {
    await mesh.start();
  });
  // Event streams would keep the server from closing: they end first, then the server, then the mesh.
  fastify.addHook('preClose', async () => {
    handler.close();
  });
  fastify.addHook('onClose', async () => {
    await mesh.stop();
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
  for (const url of SERVICE_PATHS) {
    fastify.route({
      method: [...METHODS],
      url,
      handler: async (request, reply) => {
        reply.hijack();
        const localAddress = request.raw.socket.localAddress;
        const response = await handler.handle(
          toWebRequest(request.raw, reply.raw),
          localAddress ? { localAddress } : {},
        );
        await sendWebResponse(
          reply.raw,
          response
            ?? Response.json(
              { error: 'not_found', message: `No route ${request.method} ${request.url}.` },
              { status: 404 },
            ),
        );
      },
    });
  }
};

/** The plugin: `app.register(automesh, { mesh, token?, maxBodyBytes? })`. */
export const automesh = plugin;
export default plugin;
