// Mailboxes (`this.mailbox`): one suite on the in-process bus (one broker, a connection per reader) and on a real
// nats-server (a NATS connection per reader, as separate processes have).
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { mailboxSuite } from './infra/mailbox-suite.js';
import { onNatsServer } from './transport/nats-harness.js';

const broker = new InProcessBroker();
mailboxSuite('in-process bus', { connect: async () => connectInProcess(broker) });
onNatsServer('automesh-test-mailbox', (harness) => mailboxSuite('NATS', harness));
