/** The bus errors both transports raise the same way, so a caller reads one message whichever bus it is on. */
import { BusError } from './bus-errors.js';

export function noResponders(subject: string, location: string): BusError {
  return new BusError(
    'no_responders',
    `Nobody subscribes to ${subject} on ${location}, so no reply can come; start what serves it, then retry.`,
  );
}

export function requestTimeout(subject: string, timeoutMs: number, location: string): BusError {
  return new BusError(
    'timeout',
    `No reply to ${subject} within ${timeoutMs} ms on ${location}; the responder is slow or stuck (a longer timeout may help).`,
  );
}

export function requestCancelled(subject: string): BusError {
  return new BusError('cancelled', `The request to ${subject} was cancelled by its caller's signal.`);
}

export function busClosed(location: string): BusError {
  return new BusError('closed', `The bus to ${location} is closed; open a new one to go on.`);
}
