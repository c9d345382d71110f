/**
 * The headers of every message a provider sends, in the order OpenAgentMesh main writes them (`oam-wire.md` §3–§6;
 * its `_subscribe_agent`, `_handle_responder`, `_handle_streaming`, `_emit_publisher_events`). `X-Mesh-Instance-Id`
 * comes last and only when the sender has an instance id (main has one, 0.2.0 none).
 */
import type { BusHeaders } from '../bus.js';
import { HEADER } from './wire.js';

function withInstance(headers: BusHeaders, instanceId: string | undefined): BusHeaders {
  if (instanceId !== undefined) headers[HEADER.instanceId] = instanceId;
  return headers;
}

/** A successful reply to a call (or to a `send` with a reply subject). */
export function replyHeaders(agent: string, requestId: string, instanceId?: string): BusHeaders {
  return withInstance({ [HEADER.status]: 'ok', [HEADER.source]: agent, [HEADER.requestId]: requestId }, instanceId);
}

/** An error reply, and the copy on `mesh.errors.{name}` (the same headers; neither has `X-Mesh-Source`). */
export function errorHeaders(requestId: string, instanceId?: string): BusHeaders {
  return withInstance({ [HEADER.status]: 'error', [HEADER.requestId]: requestId }, instanceId);
}

/** The error frame that ends a stream: `End: true`, `Status: error`, no `Seq`. */
export function streamErrorHeaders(requestId: string, instanceId?: string): BusHeaders {
  return withInstance(
    { [HEADER.streamEnd]: 'true', [HEADER.status]: 'error', [HEADER.requestId]: requestId },
    instanceId,
  );
}

/** A chunk (`end` false, body = the chunk) or the end frame (`end` true, `seq` = the chunk count, empty body). */
export function chunkHeaders(seq: number, end: boolean, requestId: string, instanceId?: string): BusHeaders {
  return withInstance(
    { [HEADER.streamSeq]: String(seq), [HEADER.streamEnd]: String(end), [HEADER.requestId]: requestId },
    instanceId,
  );
}

/** A publisher's event (`end` false) or its last frame (`end` true, empty body): no request id. */
export function eventHeaders(seq: number, end: boolean, instanceId?: string): BusHeaders {
  return withInstance({ [HEADER.streamSeq]: String(seq), [HEADER.streamEnd]: String(end) }, instanceId);
}

/** A publisher's failure on its event subject: `End: true`, `Status: error`. */
export function eventErrorHeaders(instanceId?: string): BusHeaders {
  return withInstance({ [HEADER.streamEnd]: 'true', [HEADER.status]: 'error' }, instanceId);
}

/** OAM main's publisher error copy on `mesh.errors.{name}` carries only the status. */
export function statusErrorHeaders(instanceId?: string): BusHeaders {
  return withInstance({ [HEADER.status]: 'error' }, instanceId);
}
