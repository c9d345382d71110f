/**
 * MeshError: what every mesh operation throws, with OpenAgentMesh's codes and error envelope (`oam-wire.md` §6), so
 * a code survives the wire in both directions: a Python peer's `invalid_input` is an automesh `invalid_input`, and
 * an automesh handler's failure is a Python `MeshError` with the same code. Unknown codes from the wire are kept.
 */
import { AutomeshError, isAutomeshError } from '../../core/errors.js';

const MESH_MARK = Symbol.for('automesh.mesh-error');

export const MESH_ERROR_CODES = [
  /** The input failed the agent's schema (details.errors lists the issues). */
  'invalid_input',
  /** The handler threw. */
  'handler_error',
  /** A call to a streamer, a stream from a responder, a call to something not invocable. */
  'invocation_mismatch',
  /** Nobody serves the name and it is not in the catalog. */
  'not_found',
  /** The name is in the catalog but nobody answers. */
  'not_available',
  /** No reply in time. */
  'timeout',
  /** The process serving the request died while the request was in flight. */
  'agent_died',
  /** The broker cannot be reached. */
  'connection_failed',
  /** The broker refused the credentials. */
  'connection_denied',
  /** `kv.create` of a key that exists. */
  'kv_key_exists',
  /** A stream chunk arrived out of order. */
  'chunk_sequence_error',
  /** automesh: the handler's result failed its own output schema. */
  'invalid_output',
  /** automesh: a message over the server's max_payload. */
  'payload_too_large',
  /** automesh: a name or definition the mesh refuses (bad subject token, a name taken with another schema). */
  'invalid_definition',
  /** automesh: the caller's signal aborted the operation. */
  'cancelled',
  /** automesh: a compare-and-set (catalog registration, `kv.update`) lost to other writers on every try. */
  'kv_conflict',
  /** automesh: generated code asked a peer its agent does not allow (`defineAgent({ peers })`). */
  'not_allowed',
] as const;

export type KnownMeshErrorCode = (typeof MESH_ERROR_CODES)[number];
/** Known codes, or any code a peer sent (kept as is). */
export type MeshErrorCode = KnownMeshErrorCode | (string & {});

/** The error envelope: the body of an `X-Mesh-Status: error` message, key order as OAM writes it. */
export interface ErrorEnvelope {
  code: string;
  message: string;
  agent: string;
  request_id: string;
  details: Record<string, unknown>;
}

export class MeshError extends AutomeshError<MeshErrorCode> {
  /** The agent involved ('' when none). */
  readonly agent: string;
  /** The request's `X-Mesh-Request-Id` ('' when none was sent). */
  readonly requestId: string;
  readonly details: Record<string, unknown>;

  constructor(
    code: MeshErrorCode,
    message: string,
    init: { agent?: string; requestId?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, init.cause === undefined ? undefined : { cause: init.cause });
    this.agent = init.agent ?? '';
    this.requestId = init.requestId ?? '';
    this.details = init.details ?? {};
    Object.defineProperty(this, MESH_MARK, { value: true });
  }

  toEnvelope(): ErrorEnvelope {
    return {
      code: this.code,
      message: this.message,
      agent: this.agent,
      request_id: this.requestId,
      details: this.details,
    };
  }

  /** The error a received envelope describes; a body that is not an envelope becomes a `handler_error` saying so. */
  static fromEnvelope(body: unknown, fallback: { agent: string; requestId: string }): MeshError {
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const env = body as Partial<Record<keyof ErrorEnvelope, unknown>>;
      if (typeof env.code === 'string' && typeof env.message === 'string') {
        return new MeshError(env.code, env.message, {
          agent: typeof env.agent === 'string' ? env.agent : fallback.agent,
          requestId: typeof env.request_id === 'string' ? env.request_id : fallback.requestId,
          details:
            typeof env.details === 'object' && env.details !== null && !Array.isArray(env.details)
              ? (env.details as Record<string, unknown>)
              : {},
        });
      }
    }
    return new MeshError(
      'handler_error',
      `Agent "${fallback.agent}" answered with an error whose body is not an error envelope: ${JSON.stringify(body)?.slice(0, 200)}`,
      fallback,
    );
  }
}

/** True for a MeshError (from any copy of this module); with `code`, only for that code. */
export function isMeshError(error: unknown, code?: MeshErrorCode): error is MeshError {
  return isAutomeshError(error, code) && (error as unknown as Record<symbol, unknown>)[MESH_MARK] === true;
}
