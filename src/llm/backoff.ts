/** Waits between retries: exponential backoff with jitter, or the server's own Retry-After. */

export interface BackoffPolicy {
  /** First delay, in ms. */
  baseMs: number;
  /** Longest delay, in ms; a server asking for more is not waited for (the chain fails over instead). */
  maxMs: number;
}

/**
 * Delay before retry number `retry` (0 = the first retry): full-jitter exponential backoff, or the server's
 * requested delay when it gave one. Returns null when the server asks for more than the cap.
 */
export function retryDelay(
  policy: BackoffPolicy,
  retry: number,
  serverDelayMs: number | null,
  random = Math.random,
): number | null {
  if (serverDelayMs !== null) return serverDelayMs > policy.maxMs ? null : serverDelayMs;
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  // Half fixed, half random: spreads clients apart without ever retrying immediately.
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Sleeps `ms`, or rejects at once when `signal` aborts. The timer is cleared either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
