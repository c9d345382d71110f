/**
 * Which verb fits which agent: OpenAgentMesh main's capability table (ADR-0047, `_CAPABILITY_ERRORS` in its
 * `_mesh.py`), keyed by the catalog's two flags. A caller checks it before sending anything and fails locally with
 * `invocation_mismatch`; a provider checks the stream flag of every request against its own shape (defence in depth,
 * as OAM does), with the same messages.
 *
 * | verb      | responder/trigger (inv, !str) | streamer (inv, str) | publisher (!inv, str) | watcher (!inv, !str) |
 * | call      | ok                            | mismatch            | mismatch              | mismatch             |
 * | stream    | mismatch                      | ok                  | mismatch              | mismatch             |
 * | send      | ok                            | ok                  | mismatch              | mismatch             |
 * | subscribe | mismatch                      | mismatch            | ok                    | mismatch             |
 */
import type { CatalogEntry } from './contract-types.js';
import { MeshError } from './mesh-error.js';

export type Verb = 'call' | 'stream' | 'send' | 'subscribe';

const MISMATCH: Record<string, string> = {
  'call,false,true': 'is a publisher and cannot be called. Subscribe to its events instead',
  'call,false,false': 'is a background task and cannot be called',
  'call,true,true': 'is streaming-only. Use stream() instead',
  'stream,false,true': 'is a publisher and cannot be streamed. Subscribe to its events instead',
  'stream,false,false': 'is a background task and cannot be streamed',
  'stream,true,false': 'does not support streaming. Use call() instead',
  'send,false,true': 'is a publisher and cannot be sent to. Subscribe to its events instead',
  'send,false,false': 'is a background task and cannot be sent to',
  'subscribe,true,true': 'streams responses to requests. Use stream() instead',
  'subscribe,true,false': 'does not publish events. Use call() instead',
  'subscribe,false,false': 'is a background task and does not publish events',
};

/** Why `verb` does not fit an agent with these flags (OAM's message), or null when it does. */
export function mismatchReason(verb: Verb, flags: Pick<CatalogEntry, 'invocable' | 'streaming'>): string | null {
  return MISMATCH[`${verb},${flags.invocable},${flags.streaming}`] ?? null;
}

/** The `invocation_mismatch` error for `verb` on agent `name`, or null when the verb fits. */
export function mismatchError(
  verb: Verb,
  name: string,
  flags: Pick<CatalogEntry, 'invocable' | 'streaming'>,
  requestId = '',
): MeshError | null {
  const reason = mismatchReason(verb, flags);
  return reason === null
    ? null
    : new MeshError('invocation_mismatch', `Agent '${name}' ${reason}`, { agent: name, requestId });
}
