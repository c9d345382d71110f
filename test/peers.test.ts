// `this.peers` on both transports (its own in-process broker, and a real nats-server), between agents of different
// Meshes: ask, notify, broadcast (bounded; nobody answering is []), list, discover with its strategies, askAsync +
// collect, a session that travels through a chain of requests, an AutoAgent's peers; and the bad input of issue 16
// item 8: an unknown role, a handler that throws or never answers, session metadata that is not JSON data.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AutoAgent, CustomAgent, isMeshError, Mesh, type PeerContext } from '../src/index.js';
import { type MeshTransport, meshTransports } from './helpers/mesh-transports.js';
import { scriptedLlm } from './helpers/scripted-llm.js';

const llm = scriptedLlm();
const config = (extra: Record<string, string | number> = {}) => llm.config('peers', extra);

/** Requests each role received (cleared per test). */
const received: Array<{ role: string; message: unknown }> = [];

class Front extends CustomAgent {
  static override role = 'front';
  static override capabilities = ['entry'];
  static override description = 'Where a request comes in; asks the middle.';
  static self: Front | null = null;
  override async setup() {
    Front.self = this;
  }
  override async onPeerRequest(message: unknown) {
    received.push({ role: this.role, message });
    return this.peers.ask('middle', message);
  }
}

class Middle extends CustomAgent {
  static override role = 'middle';
  static override description = 'Passes a request on to the back.';
  override async onPeerRequest(message: unknown) {
    received.push({ role: this.role, message });
    return this.peers.ask('back', message);
  }
}

class Back extends CustomAgent {
  static override role = 'back';
  static override capabilities = ['analysis'];
  static override description = 'Answers with the session it was asked in.';
  override async onPeerRequest(message: unknown, ctx: PeerContext) {
    received.push({ role: this.role, message });
    return { session: ctx.session, by: this.role };
  }
}

class Analyst extends CustomAgent {
  static override role = 'analyst';
  static override capabilities = ['analysis'];
  static override description = 'Analyses; answers at once.';
  override async onPeerRequest(message: unknown) {
    received.push({ role: this.role, message });
    return { by: this.role };
  }
}

class Broken extends CustomAgent {
  static override role = 'broken';
  static override capabilities = ['analysis'];
  static override description = 'Throws.';
  override async onPeerRequest(): Promise<unknown> {
    throw new Error('broken on purpose');
  }
}

class Silent extends CustomAgent {
  static override role = 'silent';
  static override capabilities = ['analysis'];
  static override description = 'Never answers (until the mesh stops).';
  override onPeerRequest(_message: unknown, ctx: PeerContext): Promise<unknown> {
    // Longer than any timeout below, short enough that stopping the mesh does not wait long.
    return new Promise((resolve) => setTimeout(() => resolve(null), ctx.signal.aborted ? 0 : 1_500));
  }
}

class Planner extends AutoAgent {
  static override role = 'planner';
  static override description = 'Plans with code.';
  static override systemPrompt = 'Store the answer in `result`.';
}

async function waitFor(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const { name, skip, setUp } of meshTransports(config)) {
  describe(`peers (${name})`, { skip }, () => {
    let transport: MeshTransport;
    let here: Mesh;
    let there: Mesh;

    before(async () => {
      transport = await setUp();
      there = new Mesh(transport.meshOptions());
      there.add(Middle).add(Back).add(Analyst).add(Broken).add(Silent);
      await there.start();
      here = new Mesh(transport.meshOptions()).add(Front).add(Planner);
      await here.start();
      // The first mesh's catalog learns of the second's agents by its watch.
      await waitFor(() => (Front.self?.peers.list().length ?? 0) === 6, 'the catalog');
    });
    after(async () => {
      await here.stop();
      await there.stop();
      await transport.close();
    });

    const front = (): Front => {
      assert.ok(Front.self);
      return Front.self;
    };

    test('ask: the reply comes back through a chain of agents on two meshes, and the session travels with every request', async () => {
      received.length = 0;
      const reply = (await front().peers.ask(
        'middle',
        { q: 1 },
        { session: { id: 'sess-1', metadata: { user: 'ada', n: [1, 2] } } },
      )) as {
        session: unknown;
        by: string;
      };
      assert.deepEqual(reply, { session: { id: 'sess-1', metadata: { user: 'ada', n: [1, 2] } }, by: 'back' });
      assert.deepEqual(
        received.map((r) => r.role),
        ['middle', 'back'],
      );
      // From outside any agent (mesh.call), the handler still gets a session: a new one.
      const fromOutside = (await here.call('front', { q: 2 })) as { session: { id: string; metadata: unknown } };
      assert.ok(fromOutside.session.id.length > 0);
      assert.deepEqual(fromOutside.session.metadata, {});
    });

    test('an AutoAgent has this.peers too', async () => {
      const planner = here.getAgent('planner');
      assert.ok(planner);
      assert.deepEqual(await planner.peers.ask('analyst', {}), { by: 'analyst' });
      assert.ok(planner.peers.list().some((peer) => peer.role === 'front'));
    });

    test('list: the other agents that take requests, with capabilities; this agent left out', () => {
      const peers = front().peers.list();
      assert.deepEqual(peers.map((p) => p.role).sort(), ['analyst', 'back', 'broken', 'middle', 'planner', 'silent']);
      assert.deepEqual(
        peers.find((p) => p.role === 'analyst'),
        {
          role: 'analyst',
          description: 'Analyses; answers at once.',
          capabilities: ['analysis'],
        },
      );
    });

    test('broadcast collects the answers that come within the time (errors included); the silent peer is left out; nobody answering is []', async () => {
      const started = Date.now();
      const answers = await front().peers.broadcast({ ping: true }, { capability: 'analysis', timeoutMs: 500 });
      assert.ok(Date.now() - started < 3_000);
      const byRole = Object.fromEntries(answers.map((a) => [a.role, 'reply' in a ? a.reply : a.error.code]));
      assert.deepEqual(byRole, {
        analyst: { by: 'analyst' },
        back: { session: byRole.back && (byRole.back as { session: unknown }).session, by: 'back' },
        broken: 'handler_error',
      });
      assert.deepEqual(await front().peers.broadcast({}, { capability: 'nobody-has-this', timeoutMs: 200 }), []);
    });

    test('discover: round_robin takes turns, least_recent puts the peer asked last at the end, discoverOne names the capabilities when none fits', async () => {
      const peers = front().peers;
      const firsts = [0, 1, 2, 3].map(
        () => peers.discover({ capability: 'analysis', strategy: 'round_robin' })[0]?.role,
      );
      assert.equal(new Set(firsts).size, 4);
      await peers.ask('analyst', {});
      const ordered = peers.discover({ capability: 'analysis', strategy: 'least_recent' }).map((p) => p.role);
      assert.equal(ordered.at(-1), 'analyst');
      assert.equal(peers.discover({ capability: 'analysis', strategy: 'random' }).length, 4);
      const none = (() => {
        try {
          return peers.discoverOne({ capability: 'painting' });
        } catch (err) {
          return err;
        }
      })();
      assert.ok(isMeshError(none, 'not_found'), String(none));
      assert.match(none.message, /capabilities on the mesh are: analysis\./);
      assert.throws(() => peers.discover({ strategy: 'fastest' as never }), /round_robin, random, least_recent/);
    });

    test('askAsync + collect: the answers that came, and the request still running as pending', async () => {
      const peers = front().peers;
      const handles = [peers.askAsync('analyst', {}), peers.askAsync('silent', {}), peers.askAsync('broken', {})];
      const collected = await peers.collect(handles, { timeoutMs: 400 });
      assert.deepEqual(
        collected.map((c) => [c.role, c.status]),
        [
          ['analyst', 'ok'],
          ['silent', 'pending'],
          ['broken', 'error'],
        ],
      );
    });

    test('bad input: an unknown role is not_found naming the peers; a throwing handler is handler_error; a silent one is timeout', async () => {
      const peers = front().peers;
      const missing = await peers.ask('nobody', {}).catch((err: unknown) => err);
      assert.ok(isMeshError(missing, 'not_found'), String(missing));
      assert.match(missing.message, /No peer 'nobody' on the mesh; the peers there are: .*analyst/);
      const notified = await peers.notify('nobody', {}).catch((err: unknown) => err);
      assert.ok(isMeshError(notified, 'not_found'), String(notified));
      const broken = await peers.ask('broken', {}).catch((err: unknown) => err);
      assert.ok(isMeshError(broken, 'handler_error'), String(broken));
      assert.match(broken.message, /broken on purpose/);
      const slow = await peers.ask('silent', {}, { timeoutMs: 200 }).catch((err: unknown) => err);
      assert.ok(isMeshError(slow, 'timeout'), String(slow));
    });

    test('bad input: session metadata that is not JSON data is refused before anything is sent', async () => {
      received.length = 0;
      const peers = front().peers;
      const bad = await peers
        .ask('analyst', {}, { session: { metadata: { when: () => 1 } } })
        .catch((err: unknown) => err);
      assert.ok(isMeshError(bad, 'invalid_input'), String(bad));
      assert.match(bad.message, /session\.metadata\.when/);
      const big = await peers.ask('analyst', {}, { session: { metadata: { n: 10n } } }).catch((err: unknown) => err);
      assert.ok(isMeshError(big, 'invalid_input'), String(big));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(received, []);
    });
  });
}
