// The discovery suite (catalog, registry, mesh.kv, mesh.workspace, liveness) on the in-process bus.
import type { Bus } from '../src/transport/bus.js';
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { discoverySuite } from './transport/discovery-suite.js';

discoverySuite('in-process', {
  kind: 'in-process',
  broker: async () => {
    const broker = new InProcessBroker();
    const connections: Bus[] = [];
    return {
      connect: async () => {
        const bus = connectInProcess(broker);
        connections.push(bus);
        return bus;
      },
      close: async () => {
        await Promise.all(connections.map((bus) => bus.close()));
      },
    };
  },
});
