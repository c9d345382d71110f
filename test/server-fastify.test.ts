// automesh/fastify over real HTTP: the plugin starts the mesh with the app and stops it when the app closes (an
// open event stream does not hold the close up), serves the routes under the app's prefix (tasks, workflows and
// their events, health, 413) and leaves the app's own routes and body parsing alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { automesh } from '../src/server/fastify.js';
import { expectEventStreamEndsOnClose, servedMesh } from './helpers/serve-agents.js';
import { tempDir } from './helpers/temp.js';

test("the Fastify plugin: the mesh starts and stops with the app; routes under the prefix; the app's own routes untouched", {
  timeout: 20_000,
}, async () => {
  const mesh = servedMesh(tempDir('serve-fastify'));
  const app = Fastify();
  app.post('/own', async (request) => ({ got: request.body }));
  await app.register(automesh, { mesh, prefix: '/mesh', maxBodyBytes: 1024, log: () => undefined });
  assert.equal(mesh.started, false);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.equal(mesh.started, true);
    const json = { 'content-type': 'application/json' };
    const task = await fetch(`${url}/mesh/agents/arithmetic/tasks`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ task: 'double it', context: { n: 21 } }),
    });
    assert.equal(task.status, 200);
    assert.equal(((await task.json()) as { output: number }).output, 42);
    const big = await fetch(`${url}/mesh/agents/doubler/tasks`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ task: 'x'.repeat(2000) }),
    });
    assert.equal(big.status, 413);
    const health = (await (await fetch(`${url}/mesh/health`)).json()) as { status: string; peers: unknown[] };
    assert.equal(health.status, 'ok');
    assert.equal(health.peers.length, 2);
    assert.equal((await fetch(`${url}/health`)).status, 404);
    // Fastify's own JSON parsing still serves the app's routes.
    const own = await fetch(`${url}/own`, { method: 'POST', headers: json, body: '{"a":1}' });
    assert.deepEqual(await own.json(), { got: { a: 1 } });
    // A run held open: its event stream is open when the app closes, and ends with the close.
    await expectEventStreamEndsOnClose(`${url}/mesh`, () => app.close());
    assert.equal(mesh.started, false);
  } finally {
    await app.close(); // again if the test failed before it closed: the close is shared
  }
});
