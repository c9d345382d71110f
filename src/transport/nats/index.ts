/** The NATS transport: `connectNats({ settings, name })` from the NATS_* settings. */
export { connectNats, type NatsBusOptions } from './bus.js';
export type { NatsConnectSettings } from './connect-options.js';
