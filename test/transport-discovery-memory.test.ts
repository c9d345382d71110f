// The discovery suite (catalog, registry, mesh.kv, mesh.workspace, liveness) on the in-process bus. Each KV call
// first waits a random 0-2 ms, as a round trip to a server would, so concurrent writers really overlap between
// their read and their compare-and-set (in one process they otherwise run one after the other).
import type { Bus, KvBucket } from '../src/transport/bus.js';
import { connectInProcess, InProcessBroker } from '../src/transport/memory/index.js';
import { discoverySuite } from './transport/discovery-suite.js';

const roundTrip = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 2));

function withRoundTrips(bucket: KvBucket): KvBucket {
  return new Proxy(bucket, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await roundTrip();
        return value.apply(target, args);
      };
    },
  });
}

discoverySuite('in-process', {
  kind: 'in-process',
  broker: async () => {
    const broker = new InProcessBroker();
    const connections: Bus[] = [];
    return {
      connect: async () => {
        const bus = connectInProcess(broker);
        connections.push(bus);
        const kv = bus.kv.bind(bus);
        bus.kv = async (...args) => withRoundTrips(await kv(...args));
        return bus;
      },
      close: async () => {
        await Promise.all(connections.map((bus) => bus.close()));
      },
    };
  },
});
