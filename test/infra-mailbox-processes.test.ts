// Mailboxes across real processes on a real nats-server (readers are Meshes in processes of their own, function
// agents reading `ctx.mailbox`; the test process sends with `mesh.mailbox`): a message sent by one process is received
// in another; a reader SIGKILLed after taking messages and before acknowledging them loses nothing (they are
// delivered again once its claims run out); two reader processes of one role at once each get different messages,
// and together all of them.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Mesh } from '../src/index.js';
import { KvMailboxes } from '../src/infra/kv-mailbox.js';
import type { Mailbox, MailboxMessage } from '../src/infra/mailbox.js';
import { NATS_MISSING, type NatsServer, natsServerAvailable, startNatsServer } from '../src/testing/index.js';
import type { Bus } from '../src/transport/bus.js';
import { connectNats } from '../src/transport/nats/index.js';
import { type StartedScript, startScript } from './helpers/run-script.js';
import { tempDir } from './helpers/temp.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mailbox-process.ts');
const ROLE = 'desk.reader';

interface Line {
  event: string;
  id?: string;
  body?: { i: number };
  from?: string;
  deliveries?: number;
}

interface Started extends StartedScript {
  lines(): Line[];
  /** Resolves once a line passes `check` (rejects if the process exits first or after `ms`). */
  until(check: (lines: Line[]) => boolean, what: string, ms?: number): Promise<Line[]>;
}

describe('mailboxes across processes on a nats-server', { skip: natsServerAvailable() ? false : NATS_MISSING }, () => {
  let nats: NatsServer;
  const processes: Started[] = [];
  const buses: Bus[] = [];
  beforeEach(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    for (const { child, exited } of processes.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await nats.stop();
  });

  function start(node: string, mailbox: string): Started {
    const script = startScript(fixture, {
      env: {
        ...process.env,
        NATS_URL: nats.url,
        NODE_NAME: node,
        LOG_DIRECTORY: tempDir('mailbox-processes'),
        MAILBOX: mailbox,
      },
    });
    const lines = (): Line[] =>
      script
        .out()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Line);
    const until = async (check: (lines: Line[]) => boolean, what: string, ms = 20_000): Promise<Line[]> => {
      const deadline = Date.now() + ms;
      while (!check(lines())) {
        const gone = script.child.exitCode !== null || script.child.signalCode !== null;
        if (gone || Date.now() > deadline) {
          assert.fail(`${node}: ${gone ? 'exited' : 'timed out'} before ${what}\n${script.out()}\n${script.err()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return lines();
    };
    const started = Object.assign(script, { lines, until });
    processes.push(started);
    return started;
  }

  const took = (lines: Line[]): Line[] => lines.filter((line) => line.event === 'took');
  const numbers = (lines: Line[]): number[] => took(lines).map((line) => line.body?.i as number);

  /** This process's view of the role's mailbox, on a NATS connection of its own. */
  async function mailbox(): Promise<Mailbox> {
    const bus = await connectNats({ settings: { NATS_URL: nats.url }, name: 'automesh-test-mailbox' });
    buses.push(bus);
    return (await KvMailboxes.open(bus, { onWarning: assert.fail })).forRole(ROLE);
  }

  async function send(count: number): Promise<void> {
    const sender = new Mesh({
      config: { NATS_URL: nats.url, NODE_NAME: 'sender', LOG_DIRECTORY: tempDir('mailbox-sender') },
    });
    await sender.start();
    try {
      for (let i = 0; i < count; i++) await sender.mailbox.send(ROLE, { i });
    } finally {
      await sender.stop();
    }
  }

  test('sent from this process, taken in another; a reader killed mid-read loses nothing', async () => {
    await send(5);
    const inbox = await mailbox();
    assert.equal(await inbox.pending(), 5);
    // The reader process takes all five and is killed before acknowledging any.
    const doomed = start('doomed', `${ROLE} 5 1000 hold`);
    const taken = took(await doomed.until((lines) => took(lines).length === 5, 'taking 5 messages'));
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    assert.deepEqual(
      taken.map((line) => line.body?.i),
      [0, 1, 2, 3, 4],
      'oldest first',
    );
    assert.ok(taken.every((line) => line.from === 'mesh@sender' && line.deliveries === 1));
    assert.equal(await inbox.pending(), 5, 'nothing acknowledged, nothing lost');
    // Every one of them comes back once the dead reader's claims run out. Each claim runs out on its own, so the
    // order across batches of redelivery is not a promise: compare as sets.
    const again: MailboxMessage<{ i: number }>[] = [];
    while (again.length < 5) {
      const batch = await inbox.receive<{ i: number }>({ waitMs: 10_000 });
      assert.ok(batch.length > 0, 'delivered again within 10 s');
      again.push(...batch);
    }
    const byNumber = (rows: [unknown, number | undefined, number][]): typeof rows =>
      [...rows].sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
    assert.deepEqual(
      byNumber(again.map((message) => [message.id, message.body.i, message.deliveries])),
      byNumber(taken.map((line) => [line.id, line.body?.i, 2])),
    );
    await Promise.all(again.map((message) => message.ack()));
    assert.equal(await inbox.pending(), 0, 'all acknowledged');
  });

  test('two reader processes of one role at once: each message to exactly one of them', async () => {
    const readers = [start('reader-1', `${ROLE} 30 30000 ack`), start('reader-2', `${ROLE} 30 30000 ack`)];
    // Both wait on the mailbox before anything is sent, so they compete for every message.
    for (const reader of readers) await reader.until((lines) => lines.some((l) => l.event === 'ready'), 'ready');
    await send(30);
    const total = (): number => readers.reduce((sum, reader) => sum + took(reader.lines()).length, 0);
    const deadline = Date.now() + 20_000;
    while (total() < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 700)); // a duplicate would show up here
    const all = readers.flatMap((reader) => numbers(reader.lines())).sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 30 }, (_, i) => i),
      'every message once, none twice',
    );
    assert.ok(
      readers.every((reader) => took(reader.lines()).length > 0),
      `both readers took some: ${readers.map((r) => numbers(r.lines()).join(',') || 'none').join(' / ')}\n${readers.map((r) => r.err()).join('\n')}`,
    );
    assert.ok(took(readers.flatMap((r) => r.lines())).every((line) => line.deliveries === 1));
    assert.equal(await (await mailbox()).pending(), 0);
  });
});
