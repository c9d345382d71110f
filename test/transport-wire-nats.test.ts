// Wire conformance with OpenAgentMesh's captured frames over a real nats-server: the raw tap is a NATS
// subscription on `>`, the Python side bare NATS messages with the captured headers and bodies.
import { onNatsServer } from './transport/nats-harness.js';
import { wireSuite } from './transport/wire-suite.js';

onNatsServer('automesh-test-wire', (harness) => wireSuite('NATS bus', harness));
