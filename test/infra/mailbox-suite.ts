/**
 * The mailbox contract (`src/infra/mailbox.ts`), run on the in-process bus and on a real nats-server: every reader and
 * sender here is a connection of its own (on NATS, as another process's would be). Roles are unique per test, so the
 * tests share the bucket as meshes do.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { KvMailboxes, MAILBOX_BUCKET } from '../../src/infra/kv-mailbox.js';
import type { Mailbox, MailboxMessage } from '../../src/infra/mailbox.js';
import type { Bus } from '../../src/transport/bus.js';
import { isMeshError } from '../../src/transport/oam/mesh-error.js';

export interface MailboxHarness {
  /** A new connection to the test's broker. */
  connect(): Promise<Bus>;
}

const role = (): string => `r${randomBytes(4).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const bodies = (messages: MailboxMessage[]): unknown[] => messages.map((m) => m.body);

function expectCode(code: string, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(isMeshError(err, code), `expected ${code}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  };
}

export function mailboxSuite(label: string, harness: MailboxHarness): void {
  describe(`mailbox (${label})`, () => {
    const buses: Bus[] = [];
    const warnings: string[] = [];
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
      warnings.length = 0;
    });
    /** The mailboxes of a new connection. */
    async function mailboxes(): Promise<KvMailboxes> {
      const bus = await harness.connect();
      buses.push(bus);
      return KvMailboxes.open(bus, { onWarning: (message) => warnings.push(message) });
    }
    async function reader(name: string): Promise<Mailbox> {
      return (await mailboxes()).forRole(name);
    }

    test('a message sent to a role is received once, with its metadata, and gone after ack', async () => {
      const to = role();
      const sender = (await mailboxes()).forRole('planner');
      const before = Date.now();
      const sent = await sender.send(to, { topic: 'quantum', depth: 2 });
      assert.equal(sent.to, to);
      const inbox = await reader(to);
      assert.equal(await inbox.pending(), 1);
      const [message, ...rest] = await inbox.receive();
      assert.deepEqual(rest, []);
      assert.ok(message);
      assert.equal(message.id, sent.id);
      assert.equal(message.to, to);
      assert.equal(message.from, 'planner');
      assert.deepEqual(message.body, { topic: 'quantum', depth: 2 });
      assert.equal(message.deliveries, 1);
      assert.ok(message.sentAt.getTime() >= before - 5 && message.sentAt.getTime() <= Date.now());
      assert.deepEqual(await inbox.receive(), [], 'claimed: not given to another receive meanwhile');
      await message.ack();
      await message.ack(); // a second ack does nothing
      assert.equal(await inbox.pending(), 0);
      assert.deepEqual(await (await reader(to)).receive({ leaseMs: 1 }), []);
    });

    test('oldest first, at most max at a time; JSON bodies of every kind', async () => {
      const to = role();
      const sender = (await mailboxes()).sender('mesh@test');
      const sent = ['one', 2, [3], { four: 4 }, null, true, 'seven'];
      for (const body of sent) await sender.send(to, body);
      const inbox = await reader(to);
      const first = await inbox.receive({ max: 3 });
      assert.deepEqual(bodies(first), ['one', 2, [3]]);
      assert.equal(first[0]?.from, 'mesh@test');
      const second = await inbox.receive({ max: 10 });
      assert.deepEqual(bodies(second), [{ four: 4 }, null, true, 'seven']);
      await Promise.all([...first, ...second].map((m) => m.ack()));
      assert.equal(await inbox.pending(), 0);
    });

    test('replicas of a role reading at once: each message goes to exactly one of them', async () => {
      const to = role();
      const sender = (await mailboxes()).sender('mesh@test');
      const count = 30;
      await Promise.all(Array.from({ length: count }, (_, i) => sender.send(to, i)));
      const replicas = await Promise.all([reader(to), reader(to), reader(to)]);
      const got: number[][] = [[], [], []];
      // Each replica keeps taking small batches until the mailbox is empty, all at the same time.
      await Promise.all(
        replicas.map(async (replica, r) => {
          for (;;) {
            const batch = await replica.receive<number>({ max: 4 });
            if (batch.length === 0) return;
            for (const m of batch) (got[r] as number[]).push(m.body);
            await Promise.all(batch.map((m) => m.ack()));
          }
        }),
      );
      const all = got.flat().sort((a, b) => a - b);
      assert.deepEqual(
        all,
        Array.from({ length: count }, (_, i) => i),
        'every message once, none twice',
      );
      assert.equal(await replicas[0]?.pending(), 0);
    });

    test('a message not acknowledged within its lease is delivered again (a reader that died loses nothing)', async () => {
      const to = role();
      await (await mailboxes()).sender('mesh@test').send(to, 'important');
      const dying = await reader(to);
      const [taken] = await dying.receive({ leaseMs: 300 });
      assert.equal(taken?.deliveries, 1);
      const survivor = await reader(to);
      assert.deepEqual(await survivor.receive(), [], 'not while the lease holds');
      await sleep(350);
      const [again] = await survivor.receive();
      assert.equal(again?.body, 'important');
      assert.equal(again?.id, taken?.id);
      assert.equal(again?.deliveries, 2);
      // The first reader's late ack is refused: the message is the survivor's now.
      await assert.rejects(taken?.ack() as Promise<void>, expectCode('kv_conflict', /claim ran out \(leaseMs 300\)/));
      assert.equal(await survivor.pending(), 1);
      await again?.ack();
      assert.equal(await survivor.pending(), 0);
    });

    test('release hands a message back at once', async () => {
      const to = role();
      await (await mailboxes()).sender('mesh@test').send(to, 'later');
      const inbox = await reader(to);
      const [first] = await inbox.receive();
      await first?.release();
      const [again] = await (await reader(to)).receive();
      assert.equal(again?.body, 'later');
      assert.equal(again?.deliveries, 2);
      await again?.ack();
    });

    test('waitMs: a waiting receive takes a message sent later, or ends empty after waitMs or on abort', async () => {
      const to = role();
      const inbox = await reader(to);
      const sender = (await mailboxes()).sender('mesh@test');
      const start = Date.now();
      const waiting = inbox.receive({ waitMs: 10_000 });
      await sleep(150);
      await sender.send(to, 'wake up');
      const [message] = await waiting;
      assert.equal(message?.body, 'wake up');
      assert.ok(Date.now() - start < 5_000, 'woken by the message, not by the timeout');
      await message?.ack();

      const empty = Date.now();
      assert.deepEqual(await inbox.receive({ waitMs: 200 }), []);
      assert.ok(Date.now() - empty >= 190, 'waited about waitMs');

      const controller = new AbortController();
      const aborted = inbox.receive({ waitMs: 10_000, signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const abortedAt = Date.now();
      assert.deepEqual(await aborted, []);
      assert.ok(Date.now() - abortedAt < 5_000, 'the abort ended the wait');
    });

    test('a waiting receive takes a message whose claim runs out while it waits', async () => {
      const to = role();
      await (await mailboxes()).sender('mesh@test').send(to, 'orphan');
      await (await reader(to)).receive({ leaseMs: 300 }); // taken, never acknowledged
      const start = Date.now();
      const [message] = await (await reader(to)).receive({ waitMs: 10_000 });
      assert.equal(message?.body, 'orphan');
      assert.equal(message?.deliveries, 2);
      assert.ok(Date.now() - start < 5_000, 'taken when the claim ran out, not at the end of waitMs');
      await message?.ack();
    });

    test('a waiting receive ends as soon as its bus closes, failing with why', async () => {
      const bus = await harness.connect();
      const inbox = (await KvMailboxes.open(bus, { onWarning: () => undefined })).forRole(role());
      const start = Date.now();
      const waiting = inbox.receive({ waitMs: 10_000 });
      setTimeout(() => void bus.close(), 100);
      await assert.rejects(waiting, /closed/);
      assert.ok(Date.now() - start < 5_000, 'not at the end of waitMs');
    });

    test('roles are exact: "a" never gets the messages of "a.b" (function agent names are dotted)', async () => {
      const base = role();
      const sender = (await mailboxes()).sender('mesh@test');
      await sender.send(base, 'for a');
      await sender.send(`${base}.b`, 'for a.b');
      assert.deepEqual(bodies(await (await reader(base)).receive()), ['for a']);
      assert.deepEqual(bodies(await (await reader(`${base}.b`)).receive()), ['for a.b']);
    });

    test('bad input is refused, saying what to give', async () => {
      const mail = await mailboxes();
      const sender = mail.sender('mesh@test');
      for (const bad of ['', 'sp ace', 'a..b', '.a', 'a/b', 'a*', 42]) {
        await assert.rejects(sender.send(bad as string, 'x'), expectCode('invalid_input', /is not a role to send to/));
      }
      await assert.rejects(
        sender.send(role(), undefined),
        expectCode('invalid_input', /needs a message \(JSON data\)/),
      );
      await assert.rejects(sender.send(role(), { n: 1n }), expectCode('invalid_input', /the message is not JSON data/));
      await assert.rejects(
        sender.send(role(), 'x'.repeat(2 * 1024 * 1024)),
        expectCode('payload_too_large', /put the data in blobs and send its name/),
      );
      const inbox = mail.forRole(role());
      await assert.rejects(inbox.receive({ max: 0 }), expectCode('invalid_input', /max must be a whole number ≥ 1/));
      await assert.rejects(inbox.receive({ max: 5000 }), expectCode('invalid_input', /max is at most 1000/));
      await assert.rejects(inbox.receive({ waitMs: -1 }), expectCode('invalid_input', /waitMs must be a whole number/));
      await assert.rejects(
        inbox.receive({ leaseMs: 1.5 }),
        expectCode('invalid_input', /leaseMs must be a whole number/),
      );
      assert.throws(() => mail.forRole('bad role'), expectCode('invalid_input', /is not a role to receive for/));
    });

    test('a damaged record is skipped with one warning; the other messages still arrive', async () => {
      const to = role();
      const bus = await harness.connect();
      buses.push(bus);
      const bucket = await bus.kv(MAILBOX_BUCKET, { history: 1 });
      await bucket.put(`${to}.000000000-0000-garbage`, new TextEncoder().encode('not json {'));
      await (await mailboxes()).sender('mesh@test').send(to, 'fine');
      const inbox = await reader(to);
      assert.deepEqual(bodies(await inbox.receive()), ['fine']);
      await inbox.receive();
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0] as string, /Mailbox record r[0-9a-f]+\.000000000-0000-garbage .* is skipped/);
    });

    test('messages outlive the connection that sent them and wait for a reader that comes later', async () => {
      const to = role();
      const bus = await harness.connect();
      const sender = (await KvMailboxes.open(bus, { onWarning: () => undefined })).sender('mesh@gone');
      await sender.send(to, 'left behind');
      await bus.close();
      const [message] = await (await reader(to)).receive();
      assert.equal(message?.body, 'left behind');
      assert.equal(message?.from, 'mesh@gone');
      await message?.ack();
    });
  });
}
