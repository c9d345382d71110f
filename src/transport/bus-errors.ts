/**
 * Errors of the bus layer, backend-neutral like the storage errors: the OAM layer above branches on `code` and turns
 * them into the `MeshError`s users see (`no_responders` → `not_found` / `not_available`, `timeout` → `timeout`, …).
 * Messages name the location (never its credentials) and say what to do.
 */
import { AutomeshError, isAutomeshError } from '../core/errors.js';

export const BUS_ERROR_CODES = [
  /** Nobody subscribes to the subject of a request. */
  'no_responders',
  /** No reply within the request's timeout. */
  'timeout',
  /** The caller's signal aborted the request. */
  'cancelled',
  /** A message larger than the server's `max_payload`. */
  'payload_too_large',
  /** A subject or bucket name the broker would not accept (empty token, space, wildcard where none may be). */
  'invalid_subject',
  /** `create` of a key that has a value. */
  'kv_key_exists',
  /** `update` with a revision that is no longer the key's latest. */
  'kv_conflict',
  /** The broker cannot be reached (connect refused, DNS, TLS handshake). */
  'connection_failed',
  /** The broker refused the credentials, or the account may not do this. */
  'connection_denied',
  /** The bus was closed. */
  'closed',
] as const;

export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

export class BusError extends AutomeshError<BusErrorCode> {}

/** True for a bus error (from any copy of this module); with `code`, only for that code. */
export function isBusError(error: unknown, code?: BusErrorCode): error is BusError {
  return isAutomeshError(error, code) && (BUS_ERROR_CODES as readonly string[]).includes(error.code);
}
