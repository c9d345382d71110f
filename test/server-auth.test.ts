// Who may use the HTTP service: loopback by default; another address only with SERVE_TOKEN (refused without it,
// the mesh left stopped); with a token every request needs `Authorization: Bearer <token>` (401 without it or with a
// wrong one), compared as SHA-256 digests in constant time; SERVE_TOKEN is a secret setting (never echoed, masked).
// Real HTTP against listening servers; the mesh serves one function agent, so nothing warms a sandbox.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { SECRET_SETTINGS } from '../src/config/settings.js';
import { connectInProcess, InProcessBroker, loadSettings, Mesh, maskSecret, serveMesh } from '../src/index.js';
import { authProblem, bearerToken, exposureProblem, isLoopback, tokenMatches } from '../src/server/auth.js';
import { createMeshHandler } from '../src/server/routes.js';
import { nodeListener } from '../src/server/serve.js';
import { tempDir } from './helpers/temp.js';

const TOKEN = 'serve-token-0123456789abcdef';
const logDir = tempDir('serve-auth');
const broker = new InProcessBroker();

function newMesh(config: Record<string, string> = {}): Mesh {
  return new Mesh({ bus: connectInProcess(broker), config: { LOG_DIRECTORY: logDir, ...config } }).agent(
    { name: 'echo', description: 'Echoes.', input: z.object({ text: z.string() }) },
    async ({ text }) => text,
  );
}

describe('token and address checks', () => {
  test('tokenMatches compares digests: equal tokens match; any other, of any length, does not (and never throws)', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(`${TOKEN}x`, TOKEN), false);
    assert.equal(tokenMatches('', TOKEN), false);
    assert.equal(tokenMatches(TOKEN.slice(0, -1), TOKEN), false);
    assert.equal(tokenMatches(TOKEN.toUpperCase(), TOKEN), false);
  });

  test('bearerToken reads only the Bearer scheme', () => {
    assert.equal(bearerToken(`Bearer ${TOKEN}`), TOKEN);
    assert.equal(bearerToken(`bearer  ${TOKEN} `), TOKEN);
    assert.equal(bearerToken(`Basic ${TOKEN}`), null);
    assert.equal(bearerToken('Bearer'), null);
    assert.equal(bearerToken(null), null);
  });

  test('loopback addresses, and the refusal of others without a token', () => {
    for (const host of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '::ffff:10.0.0.1'])
      assert.equal(isLoopback(host), false, host);
    assert.equal(exposureProblem('127.0.0.1', undefined), null);
    assert.equal(exposureProblem('0.0.0.0', TOKEN), null);
    assert.match(exposureProblem('0.0.0.0', undefined) ?? '', /Refusing to listen on 0\.0\.0\.0 without SERVE_TOKEN/);
    assert.equal(authProblem(null, undefined, '127.0.0.1'), null);
    assert.equal(authProblem(null, undefined, '10.0.0.5')?.status, 403);
    assert.equal(authProblem(`Bearer ${TOKEN}`, TOKEN, '10.0.0.5'), null);
  });

  test('SERVE_TOKEN is a secret setting: a bad value is not echoed, and it is masked', () => {
    assert.ok(SECRET_SETTINGS.has('SERVE_TOKEN'));
    assert.throws(
      () => loadSettings({ config: { SERVE_TOKEN: 'short-secret' }, envFile: false, env: {} }),
      (err: Error) =>
        /SERVE_TOKEN=\(hidden\): SERVE_TOKEN must be at least 16/.test(err.message)
        && !err.message.includes('short-secret'),
    );
    assert.equal(maskSecret(TOKEN), 'serv…');
  });
});

describe('over HTTP', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('loopback by default: it listens on 127.0.0.1 and needs no token there', async () => {
    const served = await serveMesh(newMesh(), { port: 0, log: () => undefined });
    closers.push(() => served.close());
    assert.equal((served.server.address() as AddressInfo).address, '127.0.0.1');
    assert.equal((await fetch(`${served.url}/health`)).status, 200);
  });

  test('with a token: 401 without it, with a wrong one, with another scheme; 200 with it; the token never echoed', async () => {
    const mesh = newMesh({ SERVE_TOKEN: TOKEN });
    const served = await serveMesh(mesh, { port: 0, log: () => undefined });
    closers.push(() => served.close());
    const cases: Array<[string | null, number]> = [
      [null, 401],
      [`Bearer ${TOKEN}x`, 401],
      ['Bearer wrong', 401],
      [`Basic ${TOKEN}`, 401],
      [`Bearer ${TOKEN}`, 200],
    ];
    for (const [authorization, status] of cases) {
      const response = await fetch(`${served.url}/health`, {
        headers: authorization ? { authorization } : {},
      });
      const text = await response.text();
      assert.equal(response.status, status, `${authorization}: ${text}`);
      assert.ok(!text.includes(TOKEN), text);
      if (status === 401) {
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        assert.match(text, /"error":"unauthorized"/);
      }
    }
    // Every route is guarded, not only /health.
    const task = await fetch(`${served.url}/agents/echo/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"task":"x"}',
    });
    assert.equal(task.status, 401);
  });

  test('another address without a token is refused, and the mesh is left stopped; with one it listens', async () => {
    const mesh = newMesh();
    // Should it listen after all, it is closed with the others (the test fails, it does not hang).
    const attempt = serveMesh(mesh, { host: '0.0.0.0', port: 0 }).then((served) => {
      closers.push(() => served.close());
      return served;
    });
    await assert.rejects(attempt, (err: Error) => {
      assert.equal(err.name, 'ServeError');
      assert.match(err.message, /Refusing to listen on 0\.0\.0\.0 without SERVE_TOKEN.*openssl rand -hex 32/);
      return true;
    });
    assert.equal(mesh.started, false);
    const served = await serveMesh(mesh, { host: '0.0.0.0', port: 0, token: TOKEN, log: () => undefined });
    closers.push(() => served.close());
    const port = (served.server.address() as AddressInfo).port;
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  test('a handler with no token, in a server listening beyond loopback, answers a request from outside 403', {
    skip: external ? false : 'no non-loopback IPv4 interface on this machine',
  }, async () => {
    const mesh = newMesh();
    await mesh.start();
    const handler = createMeshHandler(mesh, { log: () => undefined });
    const server = createServer(nodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    closers.push(async () => {
      handler.close();
      await new Promise((resolve) => server.close(resolve));
      await mesh.stop();
    });
    const port = (server.address() as AddressInfo).port;
    const outside = await fetch(`http://${external}:${port}/health`);
    assert.equal(outside.status, 403);
    assert.match(await outside.text(), /not loopback, and the service has no SERVE_TOKEN/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  });
});
