/**
 * The bus conformance suite: what every bus (in-process, NATS) must do, run by each bus's test file with a harness
 * that connects to one broker. Subjects and wildcards, queue groups, request/reply and its failures, headers,
 * payload limits, ordering, closing, key-value buckets and object stores. A bus passes all of it or it is not a bus.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Bus, BusHeaders, BusMessage, KvEntry, KvWatch } from '../../src/transport/bus.js';
import { type BusErrorCode, isBusError } from '../../src/transport/bus-errors.js';
import { runScript } from '../helpers/run-script.js';

/** How the suite reaches a bus. */
export interface BusHarness {
  /** A new connection to the suite's broker; every connection made here reaches the same broker. */
  connect(): Promise<Bus>;
  readonly kind: Bus['kind'];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const text = (data: Uint8Array): string => decoder.decode(data);

/** A subject prefix (and bucket name) no other test uses, so tests on one broker never see each other's messages. */
const unique = (): string => `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets messages in flight arrive (to check that something did NOT arrive). */
async function settle(bus: Bus, ms = 150): Promise<void> {
  await bus.flush();
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function collect(bus: Bus, subject: string, queue?: string): BusMessage[] {
  const got: BusMessage[] = [];
  bus.subscribe(subject, (message) => got.push(message), queue === undefined ? {} : { queue });
  return got;
}

async function rejectsWith(promise: Promise<unknown>, code: BusErrorCode, message?: RegExp): Promise<Error> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a ${code} error, but it succeeded`),
    (error: unknown) => {
      caught = error;
    },
  );
  assertBusError(caught, code, message);
  return caught as Error;
}

function throwsWith(run: () => unknown, code: BusErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assertBusError(caught, code, message);
}

function assertBusError(error: unknown, code: BusErrorCode, message?: RegExp): void {
  assert.ok(isBusError(error), `expected a BusError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  if (message) assert.match(error.message, message);
}

/** Reads `count` entries from a watch's iterator (kept across calls: breaking out of `for await` would end it). */
async function nextEntries(entries: AsyncIterator<KvEntry>, count: number): Promise<KvEntry[]> {
  const read: KvEntry[] = [];
  while (read.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      entries.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no watch entry within 5 s (had ${read.length} of ${count})`)),
          5_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error(`the watch ended after ${read.length} of ${count} entries`);
    read.push(next.value);
  }
  return read;
}

const iterate = (watch: KvWatch): AsyncIterator<KvEntry> => watch[Symbol.asyncIterator]();

const ONE_MIB = 1024 * 1024;

/** What a bus hands out is a plain Uint8Array (not a Node Buffer), whatever was sent, so bytes compare alike. */
function assertPlainBytes(data: Uint8Array | null | undefined, what: string): void {
  assert.ok(data, `${what}: no bytes`);
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype, `${what} is a ${data.constructor.name}`);
}

export function busConformance(name: string, harness: BusHarness): void {
  describe(`${name}: bus conformance`, () => {
    /** Runs `body` with `count` fresh connections to the broker, closed afterwards whatever happens. */
    async function withBuses(count: number, body: (...buses: Bus[]) => Promise<void>): Promise<void> {
      const buses: Bus[] = [];
      try {
        for (let i = 0; i < count; i++) buses.push(await harness.connect());
        await body(...buses);
      } finally {
        await Promise.all(buses.map((bus) => bus.close()));
      }
    }

    test('identifies itself: kind, a location, and nats-server’s default 1 MiB max_payload', () =>
      withBuses(1, async (bus) => {
        assert.equal(bus.kind, harness.kind);
        assert.ok(bus.location.length > 0);
        assert.equal(bus.maxPayload, ONE_MIB);
      }));

    test('a published message reaches a subscriber on another connection with its bytes and exact-case headers', () =>
      withBuses(2, async (a, b) => {
        const subject = `${unique()}.greeting`;
        const got = collect(b, subject);
        await b.flush();
        const headers = { 'X-Mesh-Request-Id': '0123abcd', 'lower-case': 'v', MiXeD: 'A b' };
        a.publish(subject, bytes('{"hello":"world"}'), { headers });
        a.publish(subject, new Uint8Array(0));
        const sent = Buffer.from('from a Buffer');
        a.publish(subject, sent);
        sent.fill(0);
        await waitFor(() => got.length === 3, 'three messages');
        assert.equal(got[0]?.subject, subject);
        assert.equal(got[0]?.reply, undefined);
        assert.deepEqual(got[0]?.headers, headers);
        assert.equal(text(got[0]?.data ?? new Uint8Array()), '{"hello":"world"}');
        assert.deepEqual(got[1]?.headers, {});
        assert.equal(got[1]?.data.length, 0);
        assert.equal(text(got[2]?.data ?? new Uint8Array()), 'from a Buffer', 'the bytes as sent, not changed after');
        for (const message of got) assertPlainBytes(message.data, 'a message body');
      }));

    test('wildcards: * matches one token, a final > one or more; literal subjects only themselves', () =>
      withBuses(1, async (bus) => {
        const p = unique();
        const star = collect(bus, `${p}.*.x`);
        const tail = collect(bus, `${p}.a.>`);
        const exact = collect(bus, `${p}.a`);
        await bus.flush();
        for (const subject of [`${p}.a`, `${p}.a.x`, `${p}.b.x`, `${p}.a.b.c`, `${p}.b.x.y`]) {
          bus.publish(subject, bytes(subject));
        }
        await waitFor(() => star.length === 2 && tail.length === 2 && exact.length === 1, 'the matching messages');
        await settle(bus);
        assert.deepEqual(star.map((m) => m.subject).sort(), [`${p}.a.x`, `${p}.b.x`]);
        assert.deepEqual(tail.map((m) => m.subject).sort(), [`${p}.a.b.c`, `${p}.a.x`]);
        assert.deepEqual(
          exact.map((m) => m.subject),
          [`${p}.a`],
        );
      }));

    test('plain subscribers each get every message; a queue group shares them, one member per message', () =>
      withBuses(3, async (a, b, c) => {
        const subject = `${unique()}.work`;
        const plain1 = collect(a, subject);
        const plain2 = collect(b, subject);
        const members = [collect(a, subject, 'q.work'), collect(b, subject, 'q.work'), collect(c, subject, 'q.work')];
        const otherGroup = collect(c, subject, 'q.other');
        await Promise.all([a.flush(), b.flush(), c.flush()]);
        const total = 60;
        for (let i = 0; i < total; i++) a.publish(subject, bytes(String(i)));
        const grouped = (): number => members.reduce((sum, got) => sum + got.length, 0);
        await waitFor(
          () =>
            plain1.length === total && plain2.length === total && grouped() === total && otherGroup.length === total,
          'every copy',
        );
        await settle(a);
        assert.equal(grouped(), total, 'each message went to exactly one member of the group');
        const seen = members.flatMap((got) => got.map((m) => text(m.data))).sort((x, y) => Number(x) - Number(y));
        assert.deepEqual(
          seen,
          Array.from({ length: total }, (_, i) => String(i)),
        );
        for (const got of members) assert.ok(got.length > 0, `every member got some (${members.map((m) => m.length)})`);
      }));

    test('delivery is in order per subscription, and never inside publish()', () =>
      withBuses(1, async (bus) => {
        const subject = `${unique()}.ordered`;
        let publishing = false;
        let insidePublish = 0;
        const got: string[] = [];
        bus.subscribe(subject, (message) => {
          if (publishing) insidePublish++;
          got.push(text(message.data));
        });
        await bus.flush();
        for (let i = 0; i < 200; i++) {
          publishing = true;
          bus.publish(subject, bytes(String(i)));
          publishing = false;
        }
        await waitFor(() => got.length === 200, '200 messages');
        assert.equal(insidePublish, 0);
        assert.deepEqual(
          got,
          Array.from({ length: 200 }, (_, i) => String(i)),
        );
      }));

    test('unsubscribe stops delivery at once and may be called twice', () =>
      withBuses(1, async (bus) => {
        const subject = `${unique()}.stop`;
        const got: BusMessage[] = [];
        const subscription = bus.subscribe(subject, (message) => got.push(message));
        assert.equal(subscription.subject, subject);
        await bus.flush();
        bus.publish(subject, bytes('1'));
        await waitFor(() => got.length === 1, 'the first message');
        subscription.unsubscribe();
        subscription.unsubscribe();
        bus.publish(subject, bytes('2'));
        await settle(bus);
        assert.equal(got.length, 1);
      }));

    test('request/reply: the responder answers on the reply subject, with headers', () =>
      withBuses(2, async (caller, responder) => {
        const subject = `${unique()}.add`;
        responder.subscribe(
          subject,
          (message) => {
            assert.ok(message.reply, 'a request carries a reply subject');
            const { a, b } = JSON.parse(text(message.data)) as { a: number; b: number };
            responder.publish(message.reply, bytes(JSON.stringify({ sum: a + b })), {
              headers: { 'X-Mesh-Status': 'ok', 'X-Mesh-Request-Id': message.headers['X-Mesh-Request-Id'] ?? '' },
            });
          },
          { queue: 'q.add' },
        );
        await responder.flush();
        const reply = await caller.request(subject, bytes('{"a":2,"b":3}'), {
          headers: { 'X-Mesh-Request-Id': 'abc123' },
          timeoutMs: 5_000,
        });
        assert.equal(text(reply.data), '{"sum":5}');
        assert.equal(reply.headers['X-Mesh-Status'], 'ok');
        assert.equal(reply.headers['X-Mesh-Request-Id'], 'abc123');
        const replies = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            caller.request(subject, bytes(JSON.stringify({ a: i, b: 1 })), { timeoutMs: 5_000 }),
          ),
        );
        assert.deepEqual(
          replies.map((r) => JSON.parse(text(r.data)).sum),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
      }));

    test('a text body goes as its UTF-8 bytes, published or requested; its size is counted in bytes', () =>
      withBuses(2, async (caller, responder) => {
        const subject = `${unique()}.text`;
        const texts = ['{"text":"hello"}', '{"text":"é ü 漢字 😀"}', 'a\ud800b', ''];
        const got = collect(responder, `${subject}.events`);
        responder.subscribe(subject, (message) => {
          assertPlainBytes(message.data, 'a request body');
          // Echo the bytes back as text: what arrived, decoded, then sent as text again.
          responder.publish(message.reply ?? '', text(message.data), {
            headers: { 'X-Len': `${message.data.length}` },
          });
        });
        await responder.flush();
        for (const body of texts) {
          caller.publish(`${subject}.events`, body);
          const reply = await caller.request(subject, body, { timeoutMs: 5_000 });
          assert.deepEqual(reply.data, new TextEncoder().encode(body), JSON.stringify(body));
          assert.equal(reply.headers['X-Len'], String(Buffer.byteLength(body)), JSON.stringify(body));
        }
        await waitFor(() => got.length === texts.length, 'the published texts');
        assert.deepEqual(
          got.map((m) => m.data),
          texts.map((body) => new TextEncoder().encode(body)),
        );
        // 600k UTF-16 units, 1.2 MB of UTF-8: over the 1 MiB limit however short the string looks.
        const wide = 'é'.repeat(600_000);
        throwsWith(() => caller.publish(subject, wide), 'payload_too_large', /1200000 bytes/);
        await rejectsWith(caller.request(subject, wide, { timeoutMs: 1_000 }), 'payload_too_large');
      }));

    test('a request nobody subscribes to fails at once with no_responders, naming the subject', () =>
      withBuses(1, async (bus) => {
        const subject = `${unique()}.nobody`;
        const started = Date.now();
        await rejectsWith(
          bus.request(subject, bytes('{}'), { timeoutMs: 5_000 }),
          'no_responders',
          new RegExp(subject),
        );
        assert.ok(Date.now() - started < 2_000, 'no_responders does not wait for the timeout');
      }));

    test('a request nobody answers fails with timeout after timeoutMs', () =>
      withBuses(2, async (caller, silent) => {
        const subject = `${unique()}.silent`;
        silent.subscribe(subject, () => undefined);
        await silent.flush();
        const started = Date.now();
        await rejectsWith(caller.request(subject, bytes('{}'), { timeoutMs: 300 }), 'timeout', /300 ms/);
        const took = Date.now() - started;
        assert.ok(took >= 280 && took < 3_000, `timed out after ${took} ms`);
      }));

    test('a request whose signal aborts fails with cancelled, also when aborted before it starts', () =>
      withBuses(2, async (caller, silent) => {
        const subject = `${unique()}.slow`;
        silent.subscribe(subject, () => undefined);
        await silent.flush();
        const controller = new AbortController();
        const pending = caller.request(subject, bytes('{}'), { timeoutMs: 10_000, signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        const started = Date.now();
        await rejectsWith(pending, 'cancelled');
        assert.ok(Date.now() - started < 2_000);
        await rejectsWith(
          caller.request(subject, bytes('{}'), { timeoutMs: 10_000, signal: AbortSignal.abort() }),
          'cancelled',
        );
      }));

    test('subjects that are not valid are refused with invalid_subject', () =>
      withBuses(1, async (bus) => {
        for (const subject of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>', 'tab\there']) {
          throwsWith(() => bus.publish(subject, bytes('x')), 'invalid_subject');
          await rejectsWith(bus.request(subject, bytes('x'), { timeoutMs: 1_000 }), 'invalid_subject');
        }
        for (const subject of ['', 'a..b', 'a.>.b', 'a b']) {
          throwsWith(() => bus.subscribe(subject, () => undefined), 'invalid_subject');
        }
        throwsWith(() => bus.subscribe('a.b', () => undefined, { queue: 'q a' }), 'invalid_subject');
        throwsWith(() => bus.publish('a.b', bytes('x'), { reply: 'a..b' }), 'invalid_subject');
      }));

    test('header names that are not printable ASCII without ":" and values with a line break are refused', () =>
      withBuses(1, async (bus) => {
        // Valid names first: a name checked once is remembered, and must not let a bad value through after.
        bus.publish('a.b', bytes('x'), { headers: { 'X-Mesh-Request-Id': 'r1', 'X-Ok': 'v' } });
        const bad: BusHeaders[] = [
          { 'X Mesh': 'v' },
          { 'X:Mesh': 'v' },
          { 'X-Méš': 'v' },
          { '': 'v' },
          { 'X-Mesh-Request-Id': 'r1\r\nX-Forged: yes' },
          { 'X-Ok': 'line\nbreak' },
          { 'X-Ok': 'carriage\rreturn' },
          { 'X-Ok': 7 as unknown as string },
        ];
        for (const headers of bad) {
          assert.throws(() => bus.publish('a.b', bytes('x'), { headers }), TypeError, JSON.stringify(headers));
          await assert.rejects(bus.request('a.b', bytes('x'), { headers, timeoutMs: 1_000 }), TypeError);
        }
      }));

    test('a message over max_payload (headers included) is refused with payload_too_large; one at the limit goes', () =>
      withBuses(2, async (a, b) => {
        const subject = `${unique()}.big`;
        const got = collect(b, subject);
        await b.flush();
        a.publish(subject, new Uint8Array(a.maxPayload));
        await waitFor(() => got.length === 1, 'the message of exactly max_payload bytes');
        assert.equal(got[0]?.data.length, a.maxPayload);
        throwsWith(() => a.publish(subject, new Uint8Array(a.maxPayload + 1)), 'payload_too_large', /max_payload/);
        throwsWith(
          () =>
            a.publish(subject, new Uint8Array(a.maxPayload - 10), { headers: { 'X-Mesh-Request-Id': 'x'.repeat(32) } }),
          'payload_too_large',
        );
        await rejectsWith(
          a.request(subject, new Uint8Array(a.maxPayload + 1), { timeoutMs: 1_000 }),
          'payload_too_large',
        );
        await settle(a);
        assert.equal(got.length, 1);
      }));

    test('after close(): closed errors, pending requests fail with closed, a closed event, and close() again is fine', () =>
      withBuses(1, async (responder) => {
        const bus = await harness.connect();
        const events: string[] = [];
        bus.onConnection((event) => events.push(event.type));
        const subject = `${unique()}.closing`;
        responder.subscribe(subject, () => undefined);
        await responder.flush();
        const bucket = await bus.kv(unique());
        const pending = rejectsWith(bus.request(subject, bytes('{}'), { timeoutMs: 10_000 }), 'closed');
        await bus.close();
        await bus.close();
        await pending;
        throwsWith(() => bus.publish(subject, bytes('x')), 'closed');
        throwsWith(() => bus.subscribe(subject, () => undefined), 'closed');
        await rejectsWith(bus.request(subject, bytes('x'), { timeoutMs: 1_000 }), 'closed');
        await rejectsWith(bus.flush(), 'closed');
        await rejectsWith(bus.kv(unique()), 'closed');
        await rejectsWith(bucket.get('k'), 'closed');
        await rejectsWith(bus.objectStore(unique()), 'closed');
        assert.deepEqual(events, ['closed']);
      }));

    describe('key-value buckets', () => {
      test('put and get with increasing per-bucket revisions; a missing key is null', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique(), { history: 1 });
          assert.equal(await kv.get('missing'), null);
          const r1 = await kv.put('a', bytes('1'));
          const r2 = await kv.put('b', bytes('2'));
          const r3 = await kv.put('a', Buffer.from('3'));
          assert.deepEqual([r1, r2, r3], [1, 2, 3]);
          const entry = await kv.get('a');
          assert.ok(entry);
          assert.equal(entry.bucket, kv.name);
          assert.equal(entry.key, 'a');
          assert.equal(text(entry.value), '3');
          assert.equal(entry.revision, 3);
          assert.equal(entry.operation, 'PUT');
          assertPlainBytes(entry.value, 'a KV value');
          assert.ok(entry.created instanceof Date && Math.abs(entry.created.getTime() - Date.now()) < 60_000);
        }));

      test('create refuses a key with a value (kv_key_exists) and accepts one that is missing or deleted', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique());
          const first = await kv.create('catalog', bytes('[]'));
          await rejectsWith(kv.create('catalog', bytes('[1]')), 'kv_key_exists', /catalog/);
          await kv.delete('catalog');
          const again = await kv.create('catalog', bytes('[2]'));
          assert.ok(again > first);
          assert.equal(text((await kv.get('catalog'))?.value ?? new Uint8Array()), '[2]');
        }));

      test('update is compare-and-set on the revision: a stale revision fails with kv_conflict', () =>
        withBuses(2, async (a, b) => {
          const name = unique();
          const kvA = await a.kv(name);
          const kvB = await b.kv(name);
          const r1 = await kvA.put('counter', bytes('1'));
          const r2 = await kvB.update('counter', bytes('2'), r1);
          await rejectsWith(kvA.update('counter', bytes('stale'), r1), 'kv_conflict', /counter/);
          const r3 = await kvA.update('counter', bytes('3'), r2);
          assert.ok(r3 > r2);
          assert.equal(text((await kvB.get('counter'))?.value ?? new Uint8Array()), '3');
        }));

      test('delete leaves a marker: get is null, keys() leaves it out, keys(prefix) filters', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique());
          await kv.put('agents.a', bytes('1'));
          await kv.put('agents.b', bytes('2'));
          await kv.put('other', bytes('3'));
          await kv.delete('agents.a');
          assert.equal(await kv.get('agents.a'), null);
          assert.deepEqual((await kv.keys()).sort(), ['agents.b', 'other']);
          assert.deepEqual(await kv.keys('agents.'), ['agents.b']);
          assert.deepEqual(await kv.keys('nothing'), []);
        }));

      test('keys() lists promptly while other clients update and delete keys (mailbox readers acknowledging)', () =>
        withBuses(2, async (a, b) => {
          const name = unique();
          const kvA = await a.kv(name);
          const kvB = await b.kv(name);
          let slowest = 0;
          for (let round = 0; round < 12; round++) {
            const keys = Array.from({ length: 12 }, (_, i) => `m.r${round}k${i}`);
            await Promise.all(keys.map((key) => kvA.put(key, bytes('new'))));
            // B claims and deletes them one by one while A keeps listing, as readers sharing a mailbox do.
            const churn = (async () => {
              for (const key of keys) {
                const entry = await kvB.get(key);
                if (entry) await kvB.update(key, bytes('claimed'), entry.revision);
                await kvB.delete(key);
              }
            })();
            let churned = false;
            void churn.then(() => {
              churned = true;
            });
            while (!churned) {
              // A turn of the event loop each time, so a bus whose operations settle without I/O still churns.
              await new Promise((resolve) => setImmediate(resolve));
              const started = Date.now();
              const listed = await kvA.keys('m.');
              slowest = Math.max(slowest, Date.now() - started);
              assert.ok(listed.every((key) => key.startsWith('m.')));
            }
            await churn;
            assert.deepEqual(await kvA.keys('m.'), [], 'every key deleted');
          }
          assert.ok(slowest < 2000, `the slowest listing took ${slowest} ms`);
        }));

      test('watch yields the current values first, then live changes, delete markers included', () =>
        withBuses(2, async (a, b) => {
          const name = unique();
          const kv = await a.kv(name);
          await kv.put('x', bytes('1'));
          await kv.put('y', bytes('2'));
          await kv.delete('y');
          await kv.put('z', bytes('3'));
          const watch = await (await b.kv(name)).watch();
          const entries = iterate(watch);
          const initial = await nextEntries(entries, 2);
          assert.deepEqual(
            initial.map((e) => [e.key, text(e.value), e.operation]),
            [
              ['x', '1', 'PUT'],
              ['z', '3', 'PUT'],
            ],
          );
          await kv.put('x', bytes('4'));
          await kv.delete('z');
          const live = await nextEntries(entries, 2);
          watch.stop();
          for (const entry of [...initial, ...live]) assertPlainBytes(entry.value, 'a watched value');
          assert.deepEqual(
            live.map((e) => [e.key, text(e.value), e.operation]),
            [
              ['x', '4', 'PUT'],
              ['z', '', 'DEL'],
            ],
          );
        }));

      test('watch by key pattern, and without initial values', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique());
          await kv.put('a.1', bytes('old'));
          const onlyNew = await kv.watch({ key: 'a.*', initialValues: false });
          await kv.put('b.1', bytes('elsewhere'));
          await kv.put('a.2', bytes('new'));
          const [entry] = await nextEntries(iterate(onlyNew), 1);
          onlyNew.stop();
          assert.equal(entry?.key, 'a.2');
          assert.equal(text(entry?.value ?? new Uint8Array()), 'new');
          await rejectsWith(kv.watch({ key: 'a..b' }), 'invalid_subject');
        }));

      test('stop() ends a watch’s iteration', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique());
          const watch = await kv.watch();
          setTimeout(() => watch.stop(), 50);
          const seen: KvEntry[] = [];
          for await (const entry of watch) seen.push(entry);
          assert.deepEqual(seen, []);
        }));

      test('an existing bucket is opened as it is, with its data, from another connection', () =>
        withBuses(2, async (a, b) => {
          const name = unique();
          await (await a.kv(name, { history: 1 })).put('kept', bytes('yes'));
          const reopened = await b.kv(name, { history: 5 });
          assert.equal(text((await reopened.get('kept'))?.value ?? new Uint8Array()), 'yes');
        }));

      test('entries expire ttlMs after they were written', () =>
        withBuses(1, async (bus) => {
          const kv = await bus.kv(unique(), { ttlMs: 400 });
          await kv.put('short', bytes('lived'));
          assert.ok(await kv.get('short'));
          const until = Date.now() + 5_000;
          while ((await kv.get('short')) !== null) {
            assert.ok(Date.now() < until, 'the entry was still there 5 s after its 400 ms TTL');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          assert.deepEqual(await kv.keys(), []);
        }));

      test('bad bucket names and keys are refused with invalid_subject', () =>
        withBuses(1, async (bus) => {
          for (const bucket of ['', 'has.dot', 'has space', 'star*'])
            await rejectsWith(bus.kv(bucket), 'invalid_subject');
          const kv = await bus.kv(unique());
          for (const key of ['', 'a b', 'a..b', '.a', 'a.', 'a.*', 'a.>']) {
            await rejectsWith(kv.put(key, bytes('x')), 'invalid_subject');
            await rejectsWith(kv.get(key), 'invalid_subject');
          }
        }));
    });

    describe('object stores', () => {
      test('put, get, list and delete, larger than one message included', () =>
        withBuses(2, async (a, b) => {
          const name = unique();
          const store = await a.objectStore(name);
          const big = new Uint8Array(2 * ONE_MIB + 123).map((_, i) => i % 251);
          const info = await store.put('report.md', Buffer.from('# Report'));
          assert.equal(info.name, 'report.md');
          assert.equal(info.size, 8);
          assert.ok(info.modified instanceof Date);
          await store.put('data/big.bin', big);
          const other = await b.objectStore(name);
          assert.equal(text((await other.get('report.md')) ?? new Uint8Array()), '# Report');
          assert.deepEqual(await other.get('data/big.bin'), big);
          assertPlainBytes(await other.get('report.md'), 'an object');
          assert.equal(await other.get('missing'), null);
          assert.deepEqual(
            (await other.list()).map((o) => [o.name, o.size]),
            [
              ['data/big.bin', big.length],
              ['report.md', 8],
            ],
          );
          assert.equal(await other.delete('report.md'), true);
          assert.equal(await other.delete('report.md'), false);
          assert.equal(await store.get('report.md'), null);
          assert.deepEqual(
            (await store.list()).map((o) => o.name),
            ['data/big.bin'],
          );
          await store.put('data/big.bin', bytes('smaller'));
          assert.equal(text((await store.get('data/big.bin')) ?? new Uint8Array()), 'smaller');
        }));
    });
  });
}

/**
 * A handler that throws has a bug: its error reaches the process as an uncaught exception (never swallowed) and the
 * subscription goes on. Run in a child process (`test/fixtures/bus-throwing-handler.ts`) with `env`.
 */
export function throwingHandlerTest(env: () => Record<string, string>): void {
  test('a handler that throws: its error is raised as an uncaught exception, and the next messages still arrive', async () => {
    const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'bus-throwing-handler.ts');
    const run = await runScript(fixture, { env: { PATH: process.env.PATH ?? '', ...env() } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').sort(), [
      'delivered: three',
      'delivered: two',
      'uncaught: the handler broke on its first message',
    ]);
  });
}
