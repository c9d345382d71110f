// Connections of the discovery tests to a real nats-server, through the NATS bus.
import type { Bus } from '../../src/transport/bus.js';
import { connectNats } from '../../src/transport/nats/index.js';

export function connectTestNats(url: string, name: string, auth: { user?: string; pass?: string } = {}): Promise<Bus> {
  return connectNats({
    settings: {
      NATS_URL: url,
      NATS_USER: auth.user,
      NATS_PASSWORD: auth.pass,
      NATS_TOKEN: undefined,
      NATS_CREDS: undefined,
      NATS_TLS_CA: undefined,
    },
    name,
    reconnectWaitMs: 100,
  });
}
