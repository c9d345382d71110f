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

/** A request in flight as the bus holds it: closing the bus fails it. */
export interface InFlightRequest {
  close(error: BusError): void;
}

/**
 * Starts a request with `start`, which returns its cleanup; `inFlight` holds each open request so that closing the
 * bus fails them with `closed`.
 */
export function raceRequest(
  subject: string,
  options: RequestOptions,
  location: string,
  inFlight: Set<InFlightRequest>,
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
    new RacedRequest(subject, resolve, reject, inFlight).begin(timeoutMs, location, signal, start);
  });
}

/**
 * The state of one request: an object with methods rather than a closure per way it can end (every request on
 * either bus makes one, and closures were most of what a request cost here).
 */
class RacedRequest implements RequestSettle, InFlightRequest {
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #unwatch: (() => void) | undefined;
  #cleanup: (() => void) | undefined;

  constructor(
    private readonly subject: string,
    private readonly resolve: (message: BusMessage) => void,
    private readonly reject: (error: unknown) => void,
    private readonly inFlight: Set<InFlightRequest>,
  ) {}

  begin(
    timeoutMs: number,
    location: string,
    signal: AbortSignal | undefined,
    start: (settle: RequestSettle) => () => void,
  ): void {
    this.#timer = setTimeout(() => this.fail(requestTimeout(this.subject, timeoutMs, location)), timeoutMs);
    // A caller's signal is often shared by many requests (a workflow's steps): one listener on it however many follow.
    if (signal) this.#unwatch = watchAbort(signal, () => this.fail(requestCancelled(this.subject)));
    this.inFlight.add(this);
    const cleanup = start(this);
    if (this.#done) cleanup();
    else this.#cleanup = cleanup;
  }

  reply(message: BusMessage): void {
    if (this.#finish()) this.resolve(message);
  }

  fail(error: unknown): void {
    if (this.#finish()) this.reject(error);
  }

  close(error: BusError): void {
    this.fail(error);
  }

  /** Releases what the request set up; false when it had ended already. */
  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#unwatch?.();
    this.inFlight.delete(this);
    this.#cleanup?.();
    return true;
  }
}
