/**
 * One request's ending, shared by both buses: the first of a reply, a failure, the timeout, the caller's abort or
 * the bus closing settles it, and everything it set up is released exactly once.
 */

import { watchAbort } from '../core/abort.js';
import type { BusMessage, RequestOptions } from './bus.js';
import type { BusError } from './bus-errors.js';
import { requestCancelled, requestTimeout } from './failures.js';

export interface RequestSettle {
  reply(message: BusMessage): void;
  fail(error: unknown): void;
}

/**
 * Starts a request with `start`, which returns its cleanup; `inFlight` holds a closer per open request so that
 * closing the bus fails them with `closed`.
 */
export function raceRequest(
  subject: string,
  options: RequestOptions,
  location: string,
  inFlight: Set<(error: BusError) => void>,
  start: (settle: RequestSettle) => () => void,
): Promise<BusMessage> {
  const { timeoutMs, signal } = options;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return Promise.reject(
      new TypeError(`A request's timeoutMs must be a positive number of milliseconds, got ${timeoutMs}.`),
    );
  }
  if (signal?.aborted) return Promise.reject(requestCancelled(subject));
  return new Promise<BusMessage>((resolve, reject) => {
    let done = false;
    let cleanup: () => void = () => undefined;
    let unwatch: () => void = () => undefined;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unwatch();
      inFlight.delete(onClose);
      cleanup();
      settle();
    };
    const onAbort = (): void => finish(() => reject(requestCancelled(subject)));
    const onClose = (error: BusError): void => finish(() => reject(error));
    const timer = setTimeout(() => finish(() => reject(requestTimeout(subject, timeoutMs, location))), timeoutMs);
    // A caller's signal is often shared by many requests (a workflow's steps): one listener on it however many follow.
    if (signal) unwatch = watchAbort(signal, onAbort);
    inFlight.add(onClose);
    cleanup = start({
      reply: (message) => finish(() => resolve(message)),
      fail: (error) => finish(() => reject(error)),
    });
    if (done) cleanup();
  });
}
