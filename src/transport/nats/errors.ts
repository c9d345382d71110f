/**
 * NATS client errors as bus errors: the code the layer above branches on, and a message that names the server
 * (never its credentials) and says what to do. Secret values are taken out of anything quoted from the client.
 */
import { redactSecrets } from '../../llm/redact.js';
import { BusError, isBusError } from '../bus-errors.js';
import { busClosed } from '../failures.js';

/** What the caller knows about the connection, for messages. */
export interface ErrorContext {
  location: string;
  login: string | null;
  secrets: readonly string[];
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

function reasonOf(error: unknown, context: ErrorContext): string {
  const err = error as { message?: unknown; code?: unknown; cause?: { message?: unknown } };
  const message = typeof err?.message === 'string' && err.message ? err.message : String(error);
  const cause = typeof err?.cause?.message === 'string' ? ` (${err.cause.message})` : '';
  return redactSecrets(`${message}${cause}`, context.secrets);
}

function nameOf(error: unknown): string {
  return (error as { name?: unknown })?.name === undefined ? '' : String((error as { name: unknown }).name);
}

function codeOf(error: unknown): string {
  const err = error as { code?: unknown; cause?: { code?: unknown } };
  return String(err?.code ?? err?.cause?.code ?? '');
}

function isAuthError(error: unknown): boolean {
  return (
    nameOf(error) === 'AuthorizationError'
    || /authorization violation|authentication/i.test(String((error as Error)?.message))
  );
}

/** The error of a failed connect: unreachable, refused credentials, TLS trouble. */
export function connectError(error: unknown, context: ErrorContext): BusError {
  if (isBusError(error)) return error;
  const reason = reasonOf(error, context);
  const where = `the NATS server at ${context.location}`;
  if (isAuthError(error)) {
    const tried = context.login ? `with ${context.login}` : 'without credentials';
    return new BusError(
      'connection_denied',
      `${where} refused the login ${tried} (${reason}): check NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS.`,
      { cause: error },
    );
  }
  if (/does not support 'tls'/.test(reason)) {
    return new BusError(
      'connection_failed',
      `${where} does not offer TLS, but NATS_URL asks for it (tls://, or NATS_TLS_CA is set): use nats:// or enable TLS on the server.`,
      { cause: error },
    );
  }
  if (TLS_CODES.test(codeOf(error))) {
    return new BusError(
      'connection_failed',
      `TLS with ${where} failed (${reason}): if its certificate is signed by a private CA, set NATS_TLS_CA to that CA's PEM file.`,
      { cause: error },
    );
  }
  return new BusError(
    'connection_failed',
    `Cannot connect to ${where} (${reason}): is nats-server running? \`automesh mesh up\` starts one; or set NATS_URL to where it runs.`,
    { cause: error },
  );
}

/** The error of an operation on an open connection (publish, flush, a JetStream call). */
export function operationError(error: unknown, what: string, context: ErrorContext): unknown {
  if (isBusError(error)) return error;
  const name = nameOf(error);
  if (name === 'ClosedConnectionError' || name === 'DrainingConnectionError') return busClosed(context.location);
  if (name !== 'AuthorizationError' && /disconnect/i.test(reasonOf(error, context))) {
    return new BusError(
      'connection_failed',
      `${what}: the connection to ${context.location} was lost before it finished; the client reconnects on its own, so retry.`,
      { cause: error },
    );
  }
  if (name === 'InvalidArgumentError' && /headers'? are not available/i.test(reasonOf(error, context))) {
    return new BusError(
      'connection_failed',
      `${what}: the NATS server at ${context.location} does not support message headers, which OpenAgentMesh's messages `
        + 'carry; run nats-server 2.2 or later with headers on (the default).',
      { cause: error },
    );
  }
  if (name === 'InvalidSubjectError') {
    return new BusError('invalid_subject', `${what}: ${reasonOf(error, context)}.`, { cause: error });
  }
  if (name === 'JetStreamNotEnabled' || /jetstream not enabled|JetStream not enabled/i.test(reasonOf(error, context))) {
    return new BusError(
      'connection_failed',
      `${what}: the NATS server at ${context.location} has no JetStream, which key-value buckets and object stores need; `
        + 'start it with JetStream on (`nats-server -js`; `automesh mesh up` does).',
      { cause: error },
    );
  }
  if (name === 'PermissionViolationError' || /permissions violation/i.test(reasonOf(error, context))) {
    return new BusError(
      'connection_denied',
      `${what}: the NATS account may not do this on ${context.location} (${reasonOf(error, context)}); grant it in the server's config.`,
      { cause: error },
    );
  }
  return error;
}

/** Whether a JetStream error is the API error `code` (10059 stream not found, 10071 wrong last sequence, …). */
export function isApiError(error: unknown, ...codes: number[]): boolean {
  const code = (error as { code?: unknown })?.code;
  return nameOf(error).endsWith('Error') && typeof code === 'number' && codes.includes(code);
}

/** Runs one bucket operation: checks first (open bus, valid name), then maps the client's error to a bus error. */
export async function mapFailure<T>(what: string, context: ErrorContext, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw operationError(error, what, context);
  }
}
