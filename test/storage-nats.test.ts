// The KV storage passes the storage conformance suite on a real nats-server (JetStream KV), each test on its own
// buckets, a second process played by a second connection.
import { after, before } from 'node:test';
import { connectNats } from '../src/transport/nats/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from './helpers/nats-server.js';
import { busStorageHarness } from './storage/bus-harness.js';
import { runStorageConformance } from './storage/conformance.js';

if (!natsServerAvailable()) throw new Error(NATS_MISSING);

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(() => server?.stop());

runStorageConformance(
  'KV on nats-server',
  busStorageHarness(async () => ({
    connect: () => connectNats({ settings: { NATS_URL: server.url }, connectTimeoutMs: 3_000, reconnectWaitMs: 100 }),
  })),
);
