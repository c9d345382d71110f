// The KV storage (registry and workflows on KV buckets) passes the storage conformance suite on the in-process bus.
import { connectInProcess, InProcessBroker } from '../src/transport/index.js';
import { runBusStorageExtras } from './storage/bus-extras.js';
import { busStorageHarness } from './storage/bus-harness.js';
import { runStorageConformance } from './storage/conformance.js';

const harness = busStorageHarness(async () => {
  const broker = new InProcessBroker();
  return { connect: async () => connectInProcess(broker) };
});

runStorageConformance('KV on the in-process bus', harness);
runBusStorageExtras('KV on the in-process bus', harness);
