/** The compare-and-set budget of the KV stores: many writers on one key retry with a growing, jittered pause. */

/** Tries of one compare-and-set before it gives up with `conflict`. */
export const CAS_TRIES = 100;

/** Waits before try `attempt + 1`: random, up to 1 ms doubled per try, at most 25 ms, so writers spread out. */
export function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(25, 2 ** Math.min(attempt, 5));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
