/**
 * What both buses do the same way around their transport: the checks before a message or a subscription goes
 * anywhere, the connection listeners, the requests in flight that closing fails, the `closed` error after close().
 */

import type { BusHeaders, ConnectionEvent } from './bus.js';
import { busClosed } from './failures.js';
import {
  assertHeaders,
  assertPayloadSize,
  assertPublishSubject,
  assertQueueGroup,
  assertSubscribeSubject,
} from './names.js';
import type { InFlightRequest } from './request-race.js';

export abstract class BusBase {
  abstract readonly location: string;
  abstract readonly maxPayload: number;
  /** The requests in flight: close() fails them with `closed`. */
  protected readonly inFlight = new Set<InFlightRequest>();
  private readonly listeners = new Set<(event: ConnectionEvent) => void>();

  /** Whether the bus may no longer be used (closed by us, or gone for good). */
  protected abstract isClosed(): boolean;

  onConnection(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(event: ConnectionEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  protected ensureOpen(): void {
    if (this.isClosed()) throw busClosed(this.location);
  }

  /** Fails every request in flight with `closed`. */
  protected failInFlight(): void {
    for (const request of [...this.inFlight]) request.close(busClosed(this.location));
  }

  /**
   * A message with a body of `bodyBytes` may go: the bus is open, the subjects and headers are valid, and it fits
   * `maxPayload`.
   */
  protected checkMessage(subject: string, bodyBytes: number, headers: BusHeaders | undefined, reply?: string): void {
    this.ensureOpen();
    assertPublishSubject(subject);
    if (reply !== undefined) assertPublishSubject(reply);
    assertHeaders(headers);
    assertPayloadSize(subject, bodyBytes, headers, this.maxPayload, this.location);
  }

  protected checkSubscription(subject: string, queue: string | undefined): void {
    this.ensureOpen();
    assertSubscribeSubject(subject);
    if (queue !== undefined) assertQueueGroup(queue);
  }
}
