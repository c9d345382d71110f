import type { BusHandler, BusMessage } from './bus.js';

/**
 * Runs a subscription's handler on one message. A handler that throws has a bug: its error is raised again outside
 * the bus, as an uncaught exception (never swallowed), and the subscription goes on delivering the next messages.
 */
export function runHandler(handler: BusHandler, message: BusMessage): void {
  try {
    handler(message);
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}
