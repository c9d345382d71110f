// The JetStream work queue passes the work-queue conformance suite against a real nats-server (started here,
// JetStream on, loopback), and keeps its jobs through what only a server and real processes show.
import { after, before, describe } from 'node:test';
import { connectNats } from '../src/transport/nats/index.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from './helpers/nats-server.js';
import { workQueueConformance } from './transport/work-queue-conformance.js';

const skip = natsServerAvailable() ? false : NATS_MISSING;

describe('JetStream work queue', { skip }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(() => server?.stop());

  workQueueConformance('JetStream', {
    connect: () =>
      connectNats({
        settings: { NATS_URL: server.url },
        name: 'automesh-wq-test',
        connectTimeoutMs: 3_000,
        reconnectWaitMs: 100,
      }),
  });
});
