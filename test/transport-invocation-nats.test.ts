// Function agents served and called over a real nats-server: the whole invocation suite, each connection its own
// NATS client (as two processes would have).

import { invocationSuite } from './transport/invocation-suite.js';
import { onNatsServer } from './transport/nats-harness.js';

onNatsServer('automesh-test-invocation', (harness) => invocationSuite('NATS bus', harness));
