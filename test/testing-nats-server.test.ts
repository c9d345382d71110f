// automesh/testing's nats-server helper: a private server per test on a free port the server picks, JetStream on
// (a mesh's shared KV works on it), loopback only, its temporary store removed on stop; two at once do not collide;
// without the binary, natsServerSkip() gives the reason (with how to install it) and startNatsServer() fails
// saying so, leaving nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { Mesh } from '../src/index.js';
import { NATS_MISSING, natsServerSkip, startNatsServer } from '../src/testing/index.js';
import { tempDir } from './helpers/temp.js';

const missing = '/nonexistent/nats-server';

test('a private server on a free loopback port with JetStream on; stop() removes its store', {
  skip: natsServerSkip(),
}, async () => {
  const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
  try {
    assert.match(a.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(a.port, b.port, 'each test gets its own server');
    assert.ok(existsSync(a.storeDir));
    const mesh = new Mesh({ config: { NATS_URL: a.url, LOG_DIRECTORY: tempDir('testing-nats') } });
    mesh.agent({ name: 'probe', description: 'Keeps the mesh an agent.' }, () => 'ok');
    await mesh.start();
    try {
      await mesh.kv.put('greeting', 'hello');
      assert.equal(await mesh.kv.get('greeting'), 'hello', 'JetStream KV works on it');
      assert.deepEqual(
        (await mesh.catalog()).map((entry) => entry.name),
        ['probe'],
      );
    } finally {
      await mesh.stop();
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  assert.equal(existsSync(a.storeDir), false);
  assert.equal(existsSync(b.storeDir), false);
});

test('without a nats-server binary: the skip reason says how to install one; starting fails and leaves nothing', async () => {
  assert.equal(natsServerSkip(missing), NATS_MISSING);
  assert.match(
    NATS_MISSING,
    /nats-server is not installed\. Install nats-server 2\.9 or later: `apt-get install nats-server`/,
  );
  const before = readdirSync(tmpdir()).filter((name) => name.startsWith('automesh-nats-'));
  await assert.rejects(
    startNatsServer({ binary: missing }),
    /nats-server could not be run \(.*ENOENT.*\)\. Install nats-server/,
  );
  const after = readdirSync(tmpdir()).filter((name) => name.startsWith('automesh-nats-'));
  assert.deepEqual(after, before);
});
