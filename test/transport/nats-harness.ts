/**
 * A suite run against a real nats-server started for its test file (JetStream, loopback, temporary store removed
 * afterwards); skipped, saying how to install it, where there is no nats-server. Every connection the harness makes
 * is its own NATS client, as another process's would be.
 */
import { after, before, describe } from 'node:test';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../../src/testing/index.js';
import { connectNats } from '../../src/transport/nats/index.js';
import type { InvocationHarness } from './invocation-suite.js';

export function onNatsServer(clientName: string, suite: (harness: InvocationHarness) => void): void {
  describe('NATS', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
    let server: NatsServer;
    before(async () => {
      server = await startNatsServer();
    });
    after(async () => {
      await server?.stop();
    });
    suite({ connect: () => connectNats({ settings: { NATS_URL: server.url }, name: clientName }) });
  });
}
