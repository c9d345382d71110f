// The NATS bus passes the bus conformance suite against a real nats-server (started here, JetStream on, loopback),
// and fails the way a user can act on: an unreachable URL, refused credentials, a bad creds file, TLS, a broker
// restart (events, then subscriptions that work again), an oversize message; secrets never in a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isAutomeshError } from '../src/core/errors.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus, BusMessage, ConnectionEvent, KvEntry } from '../src/transport/bus.js';
import { isBusError } from '../src/transport/bus-errors.js';
import { connectNats, type NatsConnectSettings } from '../src/transport/nats/index.js';
import { busConformance, throwingHandlerTest } from './transport/bus-conformance.js';

const available = natsServerAvailable();
const skip = available ? false : NATS_MISSING;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const connectTo = (settings: NatsConnectSettings, name = 'automesh-test'): Promise<Bus> =>
  connectNats({ settings, name, connectTimeoutMs: 3_000, reconnectWaitMs: 100 });

/** The error `promise` rejects with (fails when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  return assert.fail('expected a failure, but it succeeded');
}

/** A fresh nats-server (with extra `config`) for `body`, and a way to connect to it; all closed and stopped after. */
async function withServer(
  config: string | undefined,
  body: (
    server: NatsServer,
    open: (settings?: Partial<NatsConnectSettings>, name?: string) => Promise<Bus>,
  ) => Promise<void>,
): Promise<void> {
  const server = await startNatsServer(config ? { config } : {});
  const buses: Bus[] = [];
  const open = async (settings: Partial<NatsConnectSettings> = {}, name?: string): Promise<Bus> => {
    const bus = await connectTo({ NATS_URL: server.url, ...settings }, name);
    buses.push(bus);
    return bus;
  };
  try {
    await body(server, open);
  } finally {
    await Promise.all(buses.map((bus) => bus.close()));
    await server.stop();
  }
}

/** A plain client on `server`, for what the bus does not show (stream configs, advisories); closed afterwards. */
async function withClient(server: NatsServer, body: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await body(nc);
  } finally {
    await nc.close();
  }
}

describe('NATS bus', { skip }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(() => server?.stop());

  busConformance('NATS bus', { kind: 'nats', connect: () => connectTo({ NATS_URL: server.url }) });
  throwingHandlerTest(() => ({ NATS_URL: server.url }));
});

describe('NATS bus: buckets as OpenAgentMesh makes them', { skip }, () => {
  test('a new bucket gets nats-py’s config (oam-wire.md §1); an existing one, made by @nats-io/kv, is used as it is', () =>
    withServer(undefined, (server, open) =>
      withClient(server, async (nc) => {
        const bus = await open();
        await bus.kv('mesh-catalog', { history: 1 });
        const jsm = await jetstreamManager(nc);
        const { config } = await jsm.streams.info('KV_mesh-catalog');
        assert.deepEqual(
          {
            subjects: config.subjects,
            max_msgs_per_subject: config.max_msgs_per_subject,
            storage: config.storage,
            discard: config.discard,
            deny_delete: config.deny_delete,
            allow_rollup_hdrs: config.allow_rollup_hdrs,
            allow_direct: config.allow_direct,
            max_age: config.max_age,
            num_replicas: config.num_replicas,
          },
          {
            subjects: ['$KV.mesh-catalog.>'],
            max_msgs_per_subject: 1,
            storage: 'file',
            discard: 'new',
            deny_delete: true,
            allow_rollup_hdrs: true,
            allow_direct: false,
            max_age: 0,
            num_replicas: 1,
          },
        );
        const theirs = await new Kvm(nc).create('mesh-registry', { history: 3 });
        await theirs.put('peer.add', bytes('{"name":"peer.add"}'));
        const ours = await bus.kv('mesh-registry', { history: 1 });
        assert.equal(new TextDecoder().decode((await ours.get('peer.add'))?.value), '{"name":"peer.add"}');
        const kept = (await jsm.streams.info('KV_mesh-registry')).config;
        assert.equal(kept.max_msgs_per_subject, 3);
        assert.equal(kept.allow_direct, true);
      }),
    ));
});

describe('NATS bus: key listings', { skip }, () => {
  test('a listing under a prefix with nothing stored makes no consumer; one with keys or delete markers lists as before', () =>
    withServer(undefined, (server, open) =>
      withClient(server, async (nc) => {
        const bus = await open();
        const bucket = await bus.kv('listings');
        await bucket.put('task.a.1', bytes('x'));
        await bucket.put('task.b.1', bytes('y'));
        await bucket.delete('task.b.1');
        // The server announces every consumer made on the bucket's stream.
        const created: string[] = [];
        nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.CREATED.KV_listings.>', {
          callback: (_, message) => created.push(message.subject),
        });
        await nc.flush();
        const consumersFor = async (list: () => Promise<string[]>): Promise<[string[], number]> => {
          const before = created.length;
          const keys = await list();
          await nc.flush();
          await new Promise((resolve) => setTimeout(resolve, 100));
          return [keys, created.length - before];
        };
        assert.deepEqual(await consumersFor(() => bucket.keys('task.c.')), [[], 0], 'nothing stored: no consumer');
        assert.deepEqual(await consumersFor(() => bucket.keys('task.a.')), [['task.a.1'], 1]);
        assert.deepEqual(await consumersFor(() => bucket.keys('task.b.')), [[], 1], 'a delete marker: listed');
        assert.deepEqual((await consumersFor(() => bucket.keys()))[0], ['task.a.1']);
        await bucket.put('task.c.9', bytes('z'));
        assert.deepEqual((await consumersFor(() => bucket.keys('task.c.')))[0], ['task.c.9']);
      }),
    ));
});

describe('NATS bus: connecting', { skip }, () => {
  test('an unreachable NATS_URL fails with connection_failed naming the URL and what to do', async () => {
    const error = await failureOf(connectTo({ NATS_URL: 'nats://127.0.0.1:1' }));
    assert.ok(isBusError(error, 'connection_failed'), String(error));
    assert.match(error.message, /nats:\/\/127\.0\.0\.1:1/);
    assert.match(error.message, /is nats-server running\? `automesh mesh up` starts one/);
  });

  test('several URLs: the first that answers is used; the credentials of a URL never show', () =>
    withServer('authorization { user: "mesh", password: "url-pass-0123456789" }', async (server) => {
      const bus = await connectTo({
        NATS_URL: `nats://127.0.0.1:1, nats://mesh:url-pass-0123456789@127.0.0.1:${server.port}`,
      });
      try {
        assert.equal(bus.location, `nats://127.0.0.1:1,nats://127.0.0.1:${server.port}`);
        await bus.flush();
      } finally {
        await bus.close();
      }
      const refused = await failureOf(
        connectTo({ NATS_URL: `nats://mesh:wrong-url-pass-99@127.0.0.1:${server.port}` }),
      );
      assert.ok(isBusError(refused, 'connection_denied'), String(refused));
      assert.doesNotMatch(refused.message, /wrong-url-pass-99/);
    }));

  test('the client name given reaches the server (OAM’s monitor matches oam-host-{instanceId} in advisories)', () =>
    withServer(
      [
        'accounts {',
        '  SYS: { users: [ { user: "sys", password: "sys-pass-0123" } ] }',
        '  APP: { jetstream: enabled, users: [ { user: "app", password: "app-pass-0123" } ] }',
        '}',
        'system_account: SYS',
      ].join('\n'),
      async (server, open) => {
        const name = 'oam-host-0123456789abcdef0123456789abcdef';
        const bus = await open({ NATS_USER: 'app', NATS_PASSWORD: 'app-pass-0123' }, name);
        const sys = await open({ NATS_USER: 'sys', NATS_PASSWORD: 'sys-pass-0123' });
        assert.equal(bus.location, server.url);
        const reply = await sys.request('$SYS.REQ.SERVER.PING.CONNZ', bytes('{"acc":"APP"}'), { timeoutMs: 3_000 });
        const connz = JSON.parse(new TextDecoder().decode(reply.data)) as {
          data: { connections: Array<{ name?: string }> };
        };
        assert.deepEqual(
          connz.data.connections.map((c) => c.name),
          [name],
        );
      },
    ));

  test('a wrong password and a missing one fail with connection_denied that says auth, without the password', () =>
    withServer('authorization { user: "mesh", password: "right-password-123" }', async (_, open) => {
      const wrong = await failureOf(open({ NATS_USER: 'mesh', NATS_PASSWORD: 'wrong-password-456' }));
      assert.ok(isBusError(wrong, 'connection_denied'), String(wrong));
      assert.match(wrong.message, /refused the login with the user and password/);
      assert.match(wrong.message, /NATS_USER and NATS_PASSWORD/);
      assert.doesNotMatch(wrong.message, /wrong-password-456|right-password-123/);
      const none = await failureOf(open());
      assert.ok(isBusError(none, 'connection_denied'), String(none));
      assert.match(none.message, /without credentials/);
      await (await open({ NATS_USER: 'mesh', NATS_PASSWORD: 'right-password-123' })).flush();
    }));

  test('a wrong token fails with connection_denied, without the token; the right one connects', () =>
    withServer('authorization { token: "right-token-0123456789" }', async (_, open) => {
      const wrong = await failureOf(open({ NATS_TOKEN: 'wrong-token-0123456789' }));
      assert.ok(isBusError(wrong, 'connection_denied'), String(wrong));
      assert.match(wrong.message, /with the token/);
      assert.doesNotMatch(wrong.message, /wrong-token|right-token/);
      await (await open({ NATS_TOKEN: 'right-token-0123456789' })).flush();
    }));

  test('a creds file that is missing or is not one is refused naming NATS_CREDS, before connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'automesh-creds-'));
    try {
      const missing = await failureOf(
        connectTo({ NATS_URL: 'nats://127.0.0.1:1', NATS_CREDS: join(dir, 'nope.creds') }),
      );
      assert.ok(isAutomeshError(missing, 'invalid-settings'), String(missing));
      assert.match(missing.message, /NATS_CREDS=.*nope\.creds cannot be read: there is no such file/);
      const notCreds = join(dir, 'user.creds');
      writeFileSync(notCreds, 'just some text\n');
      const bad = await failureOf(connectTo({ NATS_URL: 'nats://127.0.0.1:1', NATS_CREDS: notCreds }));
      assert.ok(isAutomeshError(bad, 'invalid-settings'), String(bad));
      assert.match(bad.message, /NATS_CREDS=.*user\.creds is not a \.creds file/);
      const both = await failureOf(
        connectTo({ NATS_URL: 'nats://127.0.0.1:1', NATS_TOKEN: 'a-token-value', NATS_USER: 'u', NATS_PASSWORD: 'p' }),
      );
      assert.match(both.message, /more than one way to log in/);
      assert.doesNotMatch(both.message, /a-token-value/);
      const half = await failureOf(connectTo({ NATS_URL: 'nats://127.0.0.1:1', NATS_USER: 'u' }));
      assert.match(half.message, /NATS_USER is set but NATS_PASSWORD is not/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

describe('NATS bus: TLS', {
  skip: skip || (openssl ? false : 'openssl is not installed, so no certificate can be made'),
}, () => {
  let dir: string;
  let server: NatsServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'automesh-tls-'));
    const run = (args: string[]): void => {
      const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    };
    // A private CA, and a server certificate for 127.0.0.1 signed by it.
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=automesh test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]);
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ]);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    ]);
    server = await startNatsServer({
      config: `tls { cert_file: ${JSON.stringify(join(dir, 'server.pem'))}, key_file: ${JSON.stringify(join(dir, 'server.key'))} }`,
    });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tls:// with NATS_TLS_CA connects; without the CA the certificate is not trusted, and the error says to set it', async () => {
    const url = `tls://127.0.0.1:${server.port}`;
    const bus = await connectTo({ NATS_URL: url, NATS_TLS_CA: join(dir, 'ca.pem') });
    try {
      const got: BusMessage[] = [];
      bus.subscribe('secure.hello', (message) => got.push(message));
      await bus.flush();
      bus.publish('secure.hello', bytes('over TLS'));
      const until = Date.now() + 5_000;
      while (got.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(got.length, 1);
    } finally {
      await bus.close();
    }
    const untrusted = await failureOf(connectTo({ NATS_URL: url }));
    assert.ok(isBusError(untrusted, 'connection_failed'), String(untrusted));
    assert.match(untrusted.message, /TLS with the NATS server at tls:\/\/127\.0\.0\.1/);
    assert.match(untrusted.message, /set NATS_TLS_CA/);
  });
});

describe('NATS bus: faults', { skip }, () => {
  test('a broker restart: disconnected, then reconnected, and the subscription works again', () =>
    withServer(undefined, async (server, open) => {
      const bus = await open();
      const other = await open();
      const events: ConnectionEvent['type'][] = [];
      const otherEvents: ConnectionEvent['type'][] = [];
      bus.onConnection((event) => events.push(event.type));
      other.onConnection((event) => otherEvents.push(event.type));
      const got: string[] = [];
      bus.subscribe('after.restart', (message) => got.push(new TextDecoder().decode(message.data)), { queue: 'q.x' });
      bus.subscribe('echo', (message) => message.reply && bus.publish(message.reply, message.data));
      await bus.flush();
      const kv = await bus.kv('restarted');
      await kv.put('before', bytes('1'));
      const watch = (await other.kv('restarted')).watch({ initialValues: false });
      const watched = (await watch)[Symbol.asyncIterator]();
      await server.restart();
      const until = Date.now() + 10_000;
      const reconnected = (): boolean => events.includes('reconnected') && otherEvents.includes('reconnected');
      while (!reconnected() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(events, ['disconnected', 'reconnected']);
      assert.deepEqual(otherEvents, ['disconnected', 'reconnected']);
      await other.flush();
      const reply = await retry(() => other.request('echo', bytes('still here'), { timeoutMs: 1_000 }));
      assert.equal(new TextDecoder().decode(reply.data), 'still here');
      other.publish('after.restart', bytes('one'));
      while (got.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(got, ['one']);
      // The bucket (file storage) kept its data, and a watch started before the restart sees writes after it.
      assert.equal(new TextDecoder().decode((await kv.get('before'))?.value), '1');
      await kv.put('after', bytes('2'));
      const next = await Promise.race([watched.next(), new Promise((resolve) => setTimeout(resolve, 5_000, null))]);
      assert.equal(
        (next as IteratorResult<KvEntry> | null)?.value?.key,
        'after',
        'the watch saw the write after the restart',
      );
      (await watch).stop();
    }));

  test('max_payload comes from the server: a smaller limit is enforced before sending', () =>
    withServer('max_payload: 4096', async (_, open) => {
      const bus = await open();
      assert.equal(bus.maxPayload, 4096);
      let caught: unknown;
      try {
        bus.publish('too.big', new Uint8Array(5000));
      } catch (error) {
        caught = error;
      }
      assert.ok(isBusError(caught, 'payload_too_large'), String(caught));
      assert.match(caught.message, /5000 bytes.*over the 4096-byte limit \(max_payload\) of nats:\/\/127\.0\.0\.1/);
      await bus.flush();
    }));

  test('requests reply on the shared muxed inbox: _INBOX.{nuid}.{8 base62}, one prefix for all of them', () =>
    withServer(undefined, async (_, open) => {
      const [requester, responder] = [await open(), await open()];
      const replies: string[] = [];
      responder.subscribe('echo.inbox', (message) => {
        replies.push(message.reply ?? '');
        if (message.reply) responder.publish(message.reply, message.data);
      });
      await responder.flush();
      for (const text of ['one', 'two']) {
        const reply = await requester.request('echo.inbox', bytes(text), { timeoutMs: 2_000 });
        assert.equal(new TextDecoder().decode(reply.data), text);
      }
      for (const reply of replies) assert.match(reply, /^_INBOX\.[0-9A-Za-z]{22}\.[0-9A-Za-z]{8}$/);
      const prefixes = new Set(replies.map((reply) => reply.slice(0, reply.lastIndexOf('.'))));
      assert.equal(prefixes.size, 1, `one muxed inbox, got ${[...prefixes].join(', ')}`);
      assert.notEqual(replies[0], replies[1]);
    }));

  test('a request to a subject the account may not publish to fails at once with connection_denied', () =>
    withServer(
      'authorization { users = [ { user: "mesh", password: "mesh-pass-0123456789", '
        + 'permissions: { publish: { deny: ["forbidden.>"] } } } ] }',
      async (_, open) => {
        const bus = await open({ NATS_USER: 'mesh', NATS_PASSWORD: 'mesh-pass-0123456789' });
        const started = Date.now();
        const error = await failureOf(bus.request('forbidden.subject', bytes('x'), { timeoutMs: 5_000 }));
        assert.ok(isBusError(error, 'connection_denied'), String(error));
        assert.match(error.message, /Permissions Violation for Publish to "forbidden\.subject"/);
        assert.ok(Date.now() - started < 4_000, 'the violation ends the request, not its timeout');
      },
    ));
});

/** Retries `run` for a few seconds while the server's interest catches up after a reconnect. */
async function retry<T>(run: () => Promise<T>): Promise<T> {
  const until = Date.now() + 5_000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (Date.now() > until || !isBusError(error, 'no_responders')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
