// Wire conformance with OpenAgentMesh's captured frames on the in-process bus (the NATS run is in
// transport-wire-nats.test.ts): the same subjects, headers and bodies whatever carries them.
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { wireSuite } from './transport/wire-suite.js';

const broker = new InProcessBroker();
wireSuite('in-process bus', { connect: async () => connectInProcess(broker) });
