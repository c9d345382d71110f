/**
 * Bus failures as storage errors: anything that keeps a KV call from finishing (the server down or unreachable, the
 * connection closed, refused permissions) is `unavailable`, with a message naming the server (the bus's location,
 * which never holds credentials) and what to do. The two compare-and-set refusals pass through: the stores retry on
 * them.
 */
import { isBusError } from '../../transport/bus-errors.js';
import { isStorageError, StorageError } from '../errors.js';

/** True for the refusals a compare-and-set loop retries on. */
export function isCasRefusal(error: unknown): boolean {
  return isBusError(error, 'kv_conflict') || isBusError(error, 'kv_key_exists');
}

/** Takes any `user:password@` out of URLs quoted in a client's message. */
function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1');
}

/** The storage error of a failed KV call; `where` is the bucket and its server (`automesh-registry on nats://…`). */
export function unavailable(error: unknown, doing: string, where: string): unknown {
  if (isStorageError(error) || isCasRefusal(error)) return error;
  const reason = withoutCredentials(error instanceof Error ? error.message : String(error));
  return new StorageError(
    'unavailable',
    `Could not ${doing}: the KV bucket ${where} cannot be used (${reason}). Check that nats-server is `
      + 'running with JetStream and reachable (NATS_URL), then run again: a workflow resumes where it stopped.',
    { cause: error },
  );
}

/** Runs one KV call, turning its failure into {@link unavailable}. */
export async function kvCall<T>(doing: string, where: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw unavailable(error, doing, where);
  }
}
