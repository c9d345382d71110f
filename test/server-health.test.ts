// GET /health: on a real nats-server, the node, the transport (nats, with its location), the connection and the
// peers; and how it follows the connection: 503 "degraded" with the connection "disconnected" and the loss among the
// last errors, then "ok" again. The connection's changes come from the bus's onConnection (the NATS bus's own are
// tested in transport-nats-bus); here an in-process bus reports them when the test says, because a real broker
// restart makes the mesh re-register for seconds afterwards, beyond this file's time budget.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { z } from 'zod';
import {
  type Bus,
  type ConnectionEvent,
  connectInProcess,
  InProcessBroker,
  Mesh,
  type MeshServer,
  serveMesh,
} from '../src/index.js';
import { natsServerSkip, startNatsServer } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';

interface Health {
  status: string;
  node: { name: string };
  transport: { kind: string; location: string };
  connection: { state: string };
  peers: Array<{ name: string }>;
  lastErrors: Array<{ message: string }>;
}

const logDir = tempDir('serve-health');
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function meshOf(options: { bus?: Bus; config?: Record<string, string> }): Mesh {
  return new Mesh({ ...options, config: { LOG_DIRECTORY: logDir, ...options.config } }).agent(
    { name: 'echo', description: 'Echoes.', input: z.object({ text: z.string() }) },
    async ({ text }) => text,
  );
}

async function health(server: MeshServer): Promise<{ code: number; body: Health }> {
  const response = await fetch(`${server.url}/health`);
  return { code: response.status, body: (await response.json()) as Health };
}

test('on a real nats-server: node, transport, connection and peers', { skip: natsServerSkip() }, async () => {
  const nats = await startNatsServer();
  closers.push(() => nats.stop());
  const server = await serveMesh(meshOf({ config: { NATS_URL: nats.url, NODE_NAME: 'health-node' } }), {
    port: 0,
    log: () => undefined,
  });
  closers.push(() => server.close());
  const { code, body } = await health(server);
  assert.equal(code, 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.node.name, 'health-node');
  assert.deepEqual(body.transport, { kind: 'nats', location: nats.url });
  assert.equal(body.connection.state, 'connected');
  assert.deepEqual(
    body.peers.map((p) => p.name),
    ['echo'],
  );
});

test('it follows the connection: degraded (503) while disconnected, the loss in lastErrors; ok again after', async () => {
  const bus = connectInProcess(new InProcessBroker());
  const listeners = new Set<(event: ConnectionEvent) => void>();
  // The bus as it is, but for its connection events, which the test sends.
  const reporting = new Proxy(bus, {
    get(target, property) {
      if (property === 'onConnection')
        return (listener: (event: ConnectionEvent) => void) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        };
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const server = await serveMesh(meshOf({ bus: reporting }), { port: 0, log: () => undefined });
  closers.push(async () => {
    await server.close();
    await bus.close();
  });
  assert.equal((await health(server)).body.status, 'ok');
  const report = (event: ConnectionEvent): void => {
    for (const listener of listeners) listener(event);
  };
  report({ type: 'disconnected', location: 'nats://broker:4222' });
  const down = await health(server);
  assert.equal(down.code, 503);
  assert.equal(down.body.status, 'degraded');
  assert.equal(down.body.connection.state, 'disconnected');
  assert.equal(down.body.lastErrors.at(-1)?.message, 'the mesh lost its connection to nats://broker:4222');
  report({ type: 'reconnected', location: 'nats://broker:4222' });
  const back = await health(server);
  assert.equal(back.code, 200);
  assert.equal(back.body.connection.state, 'connected');
});
