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
import type { CatalogCapabilities } from './contract-types.js';
import { MeshError } from './mesh-error.js';

export type Verb = 'call' | 'stream' | 'send' | 'subscribe';

/** OAM's reason per verb, indexed by the flags: [!inv !str, !inv str, inv !str, inv str]; null where it fits. */
const MISMATCH: Record<Verb, readonly (string | null)[]> = {
  call: [
    'is a background task and cannot be called',
    'is a publisher and cannot be called. Subscribe to its events instead',
    null,
    'is streaming-only. Use stream() instead',
  ],
  stream: [
    'is a background task and cannot be streamed',
    'is a publisher and cannot be streamed. Subscribe to its events instead',
    'does not support streaming. Use call() instead',
    null,
  ],
  send: [
    'is a background task and cannot be sent to',
    'is a publisher and cannot be sent to. Subscribe to its events instead',
    null,
    null,
  ],
  subscribe: [
    'is a background task and does not publish events',
    null,
    'does not publish events. Use call() instead',
    'streams responses to requests. Use stream() instead',
  ],
};

/** Why `verb` does not fit an agent with these flags (OAM's message), or null when it does. */
export function mismatchReason(verb: Verb, flags: CatalogCapabilities): string | null {
  const { invocable, streaming } = flags;
  if (typeof invocable !== 'boolean' || typeof streaming !== 'boolean') return null; // no flags, nothing to refuse
  return MISMATCH[verb][(invocable ? 2 : 0) + (streaming ? 1 : 0)] ?? null;
}

/** The `invocation_mismatch` error for `verb` on agent `name`, or null when the verb fits. */
export function mismatchError(verb: Verb, name: string, flags: CatalogCapabilities, requestId = ''): MeshError | null {
  const reason = mismatchReason(verb, flags);
  return reason === null
    ? null
    : new MeshError('invocation_mismatch', `Agent '${name}' ${reason}`, { agent: name, requestId });
}
