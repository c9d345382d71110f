/**
 * The in-process transport: `connectInProcess()` joins the process-wide broker (the embedded default, so two `Mesh`es
 * in one process find each other); `connectInProcess(new InProcessBroker())` an isolated one (tests).
 */
export { DEFAULT_MAX_PAYLOAD, InProcessBroker, sharedBroker } from './broker.js';
export { connectInProcess, InProcessBus } from './bus.js';
