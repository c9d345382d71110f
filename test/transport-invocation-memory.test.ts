// Function agents served and called on the in-process bus: the whole invocation suite on an isolated broker.
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { invocationSuite } from './transport/invocation-suite.js';

const broker = new InProcessBroker();
invocationSuite('in-process bus', { connect: async () => connectInProcess(broker) });
