// automesh/hono over real HTTP: `listen` starts the mesh, then the server (on Hono's Node listener); the middleware
// serves the routes and hands other paths to the app's own; closing the server ends open event streams and stops
// the mesh. The address rule holds here too: no token, no listening beyond loopback.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Hono } from 'hono';
import { automesh } from '../src/server/hono.js';
import { expectEventStreamEndsOnClose, servedMesh } from './helpers/serve-agents.js';
import { tempDir } from './helpers/temp.js';

test('the Hono integration: the mesh starts with the server and stops when it closes; other paths reach the app', {
  timeout: 20_000,
}, async () => {
  const mesh = servedMesh(tempDir('serve-hono'));
  const api = automesh(mesh, { log: () => undefined });
  const app = new Hono().use(api.middleware);
  app.get('/hello', (c) => c.text('hello from the app'));
  await assert.rejects(api.listen(app, { host: '0.0.0.0', port: 0 }), /Refusing to listen on 0\.0\.0\.0/);
  assert.equal(mesh.started, false);
  const server = await api.listen(app, { port: 0 });
  try {
    assert.equal(mesh.started, true);
    assert.equal((server.server.address() as AddressInfo).address, '127.0.0.1');
    const task = await fetch(`${server.url}/agents/doubler/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'double it', context: { n: 5 } }),
    });
    assert.equal(((await task.json()) as { output: number }).output, 10);
    const unknown = await fetch(`${server.url}/agents/nobody/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"task":"x"}',
    });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { message: string }).message, /the agents that take tasks are doubler/);
    assert.equal(await (await fetch(`${server.url}/hello`)).text(), 'hello from the app');
    await expectEventStreamEndsOnClose(server.url, () => server.close());
    assert.equal(mesh.started, false);
  } finally {
    await server.close(); // again if the test failed before it closed: the close is shared
  }
});
