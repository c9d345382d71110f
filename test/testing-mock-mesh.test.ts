// automesh/testing's MockMesh, as a user's test uses it: a CustomAgent under test asks mocked peers (found by
// capability through this.peers), notifies one, carries its session to them; an AutoAgent under test (with the
// scripted model) asks a mocked peer and uses its reply in its task; expectAsked / expectNotified / expectNotAsked
// pass on what happened and throw AssertionErrors that say what did happen; a mocked peer that throws is the
// agent's handler_error; bad use is refused; stop() removes the temporary log folder, and a failed start leaves none.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AutoAgent, CustomAgent, isMeshError, type PeerContext } from '../src/index.js';
import { MockMesh, scriptedModel } from '../src/testing/index.js';

interface Ticket {
  ticket: string;
  amount?: number;
}

class Triage extends CustomAgent {
  static override role = 'triage';
  static override description = 'Routes a ticket to the specialist for it.';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    const { ticket, amount } = message as Ticket;
    const capability = /refund|invoice/.test(ticket) ? 'payments' : 'tech';
    const specialist = this.peers.discoverOne({ capability });
    const answer = await this.peers.ask(specialist.role, { ticket, amount, user: ctx.session.metadata.user });
    await this.peers.notify('audit', { ticket, routedTo: specialist.role });
    return { routedTo: specialist.role, answer };
  }
}

test('a CustomAgent under test asks and notifies mocked peers; the assertions pass on what it sent, with the session', async () => {
  const mock = new MockMesh();
  mock.add(Triage);
  mock.onAsk('billing', (msg) => ({ refund: ((msg as Ticket).amount ?? 0) < 100 }), {
    capabilities: ['payments'],
  });
  mock.onAsk('helpdesk', { answer: 'restart it' }, { capabilities: ['tech'] });
  mock.onNotify('audit');
  await mock.start();
  const logs = mock.mesh.settings.LOG_DIRECTORY;
  try {
    const reply = await mock.ask(
      'triage',
      { ticket: 'refund for order 7', amount: 40 },
      { session: { id: 's-1', metadata: { user: 'ada' } } },
    );
    assert.deepEqual(reply, { routedTo: 'billing', answer: { refund: true } });
    const [asked] = mock.expectAsked('billing', { amount: 40, user: 'ada' });
    assert.equal(asked?.session.id, 's-1', 'the session travelled from the request to the peer');
    mock.expectAsked('billing', /refund for order 7/);
    mock.expectAsked('billing', (msg) => (msg as Ticket).amount === 40, { times: 1 });
    mock.expectNotAsked('helpdesk');
    // notify is fire and forget: the notification arrives a moment later.
    await waitFor(() => mock.notified('audit').length === 1);
    mock.expectNotified('audit', { routedTo: 'billing' });
    assert.deepEqual(
      mock.calls.map((c) => [c.kind, c.role]),
      [
        ['ask', 'billing'],
        ['notify', 'audit'],
      ],
    );
  } finally {
    await mock.stop();
  }
  assert.equal(existsSync(logs), false, 'stop() removed the temporary log folder');
});

test('failed expectations throw AssertionErrors that say what the peer was sent', async () => {
  const mock = new MockMesh();
  mock.add(Triage);
  mock.onAsk('billing', { refund: false }, { capabilities: ['payments'] });
  mock.onAsk('helpdesk', { answer: 'restart it' }, { capabilities: ['tech'] });
  mock.onNotify('audit');
  await mock.start();
  try {
    await mock.ask('triage', { ticket: 'screen is black' });
    assert.throws(
      () => mock.expectAsked('billing'),
      (err: unknown) =>
        err instanceof assert.AssertionError
        && /Expected peer 'billing' to be asked with any message at least once; it was never asked\./.test(err.message)
        && /Other mocked peers received: helpdesk \(ask\)/.test(err.message),
    );
    assert.throws(
      () => mock.expectAsked('helpdesk', { ticket: 'printer' }),
      /Expected peer 'helpdesk' to be asked with a message containing \{"ticket":"printer"\} at least once; it was asked 1 time\(s\): #1 \{"ticket":"screen is black"\}/,
    );
    assert.throws(() => mock.expectNotAsked('helpdesk'), /to be asked with any message never; it was asked 1 time/);
    assert.throws(() => mock.expectAsked('helpdesk', undefined, { times: 2 }), /exactly 2 time\(s\)/);
    assert.throws(
      () => mock.expectAsked('shipping'),
      /'shipping' is not a mocked peer \(mocked: billing, helpdesk, audit\); mock it with onAsk or onNotify/,
    );
    assert.throws(() => mock.onAsk('late', 1), /MockMesh\.onAsk\('late'\) must come before start\(\)/);
  } finally {
    await mock.stop();
  }
});

test('a mocked peer that throws is a handler_error for the agent under test, which passes it on', async () => {
  const mock = new MockMesh();
  mock.add(Triage);
  mock.onAsk(
    'helpdesk',
    () => {
      throw new Error('helpdesk is closed');
    },
    { capabilities: ['tech'] },
  );
  mock.onNotify('audit');
  await mock.start();
  try {
    const failed = await mock.ask('triage', { ticket: 'screen is black' }).catch((err: unknown) => err);
    assert.ok(isMeshError(failed, 'handler_error'), String(failed));
    assert.match(failed.message, /helpdesk is closed/);
    mock.expectAsked('helpdesk', { ticket: 'screen is black' });
    assert.deepEqual(mock.notified('audit'), [], 'it stopped at the failed ask');
  } finally {
    await mock.stop();
  }
});

class Reporter extends AutoAgent {
  static override role = 'reporter';
  static override systemPrompt = 'You write reports from figures. Store the answer in `result`.';
  /** Asks the analyst for figures, then has the model write code over them. */
  async report(topic: string) {
    const figures = await this.peers.ask('analyst', { topic });
    return this.executeTask({ task: `Total the figures on ${topic}`, context: { figures } });
  }
}

test('an AutoAgent under test asks a mocked peer and writes code over its reply, with the scripted model', async () => {
  const model = scriptedModel([
    { task: 'Total the figures', code: 'result = context.figures.values.reduce((a, b) => a + b, 0);' },
  ]);
  const mock = new MockMesh({ providers: [model], config: { SANDBOX_WORKERS: 1 } });
  mock.add(Reporter);
  mock.onAsk('analyst', (msg) => ({ topic: (msg as { topic: string }).topic, values: [3, 4, 5] }));
  await mock.start();
  try {
    const r = await (mock.mesh.getAgent('reporter') as Reporter).report('sales');
    assert.equal(r.status, 'success', r.error ?? '');
    assert.equal(r.output, 12);
    mock.expectAsked('analyst', { topic: 'sales' });
    assert.equal(model.calls.length, 1);
  } finally {
    await mock.stop();
  }
});

test('a mocked peer with the role of an agent under test is refused at start, leaving no temporary folder; start runs once', async () => {
  const folders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('automesh-mock-mesh-'));
  const before = folders();
  const clash = new MockMesh();
  clash.add(Triage);
  clash.onAsk('triage', {});
  await assert.rejects(clash.start(), /An agent with role "triage" is already in this mesh/);
  assert.deepEqual(folders(), before);
  const mock = new MockMesh();
  mock.add(Triage);
  await mock.start();
  try {
    await assert.rejects(mock.start(), /MockMesh\.start\(\) runs once: make a new MockMesh for the next test/);
  } finally {
    await mock.stop();
  }
  assert.deepEqual(folders(), before);
});

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
