/**
 * The bare NATS floor the mesh benchmarks measure against: a plain `@nats-io/transport-node` subscriber that answers
 * a request with its own bytes, and a plain requester. Each side has its own connection, so the responder can live
 * in another process (bench/peers.ts) or beside the requester (bench/mesh.ts). Both connect as the mesh's own
 * connections do in the respect that costs CPU per request: no async stack trace captured per request
 * (`noAsyncTraces`, src/transport/nats/connect-options.ts). With the client's default the floor would pay two or
 * three stack captures per request (about a quarter of its CPU) that the mesh does not, and look slower than it is.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Once } from './timing.js';

/** Starts answering `subject` with each request's bytes on a new connection; resolves once the server has it. */
export async function answerFloor(url: string, subject: string): Promise<NatsConnection> {
  const responder = await connect({ servers: url, noAsyncTraces: true });
  responder.subscribe(subject, {
    callback: (error, message) => {
      if (!error) message.respond(message.data);
    },
  });
  await responder.flush();
  return responder;
}

/** A requester on a new connection: each `once` sends `body` to `subject` and checks the echo's length. */
export async function askFloor(
  url: string,
  subject: string,
  body: Uint8Array,
  timeoutMs: number,
): Promise<{ once: Once; connection: NatsConnection }> {
  const requester = await connect({ servers: url, noAsyncTraces: true });
  return {
    connection: requester,
    once: async () => {
      const reply = await requester.request(subject, body, { timeout: timeoutMs });
      if (reply.data.length !== body.length) throw new Error(`the floor answered ${reply.data.length} bytes`);
    },
  };
}
