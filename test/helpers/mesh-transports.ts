// The two transports a multi-mesh test runs on: an in-process broker of the test's own (each mesh gets its own bus
// on it) and a real nats-server started for the test. `setUp()` before each test; `close()` after its meshes stop.

import { NATS_MISSING, natsServerAvailable, startNatsServer } from '../../src/testing/index.js';
import type { Bus } from '../../src/transport/index.js';
import { connectInProcess, InProcessBroker } from '../../src/transport/index.js';

type Config = Record<string, string | number>;

export interface MeshTransport {
  /** Options for one more Mesh on this transport. */
  meshOptions(): { bus?: Bus; config: Config };
  /** Closes the buses or stops the server. */
  close(): Promise<void>;
}

export interface TransportCase {
  name: 'in-process' | 'nats';
  skip: string | false;
  setUp(): Promise<MeshTransport>;
}

/** Both transports; `config(extra)` makes each mesh's settings (NATS adds `NATS_URL`). */
export function meshTransports(config: (extra?: Config) => Config): TransportCase[] {
  return [
    {
      name: 'in-process',
      skip: false,
      async setUp() {
        const broker = new InProcessBroker();
        const buses: Bus[] = [];
        return {
          meshOptions() {
            const bus = connectInProcess(broker);
            buses.push(bus);
            return { bus, config: config() };
          },
          close: async () => {
            await Promise.all(buses.map((bus) => bus.close()));
          },
        };
      },
    },
    {
      name: 'nats',
      skip: natsServerAvailable() ? false : NATS_MISSING,
      async setUp() {
        const nats = await startNatsServer();
        return { meshOptions: () => ({ config: config({ NATS_URL: nats.url }) }), close: () => nats.stop() };
      },
    },
  ];
}
