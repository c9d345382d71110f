// automesh/hono over real HTTP: `listen` starts the mesh, then the server (on Hono's Node listener); the middleware
// serves the routes and hands other paths to the app's own; closing the server ends open event streams and stops
// the mesh. The address rule holds here too: no token, no listening beyond loopback.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Hono } from 'hono';
import { automesh } from '../src/server/hono.js';
import { closeGate, eventNames, releaseGate, servedMesh } from './helpers/serve-agents.js';
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
  let closing: Promise<void> | null = null;
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
    closeGate();
    const started = await fetch(`${server.url}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'held', steps: [{ agent: 'doubler', task: 'wait', context: { n: 1 } }] }),
    });
    assert.equal(started.status, 202);
    const stream = await fetch(`${server.url}/workflows/held/events`);
    closing = server.close();
    assert.deepEqual(await eventNames(stream), ['workflow:started', 'step:started']);
    releaseGate();
    await closing;
    assert.equal(mesh.started, false);
  } finally {
    releaseGate();
    await (closing ?? server.close());
  }
});
