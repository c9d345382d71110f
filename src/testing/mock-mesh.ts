/**
 * MockMesh (`automesh/testing`, JarvisCore's MockMesh): the agents under test on a real mesh of their own (a private
 * in-process broker, memory storage, a temporary log folder removed on stop), with the peers they talk to mocked.
 * A mocked peer is served like any CustomAgent (in the catalog, found by its capabilities), answers with a fixed
 * reply or a function of the message, and records what it was sent, so a test asserts on it.
 *
 *     const mock = new MockMesh();
 *     mock.add(Triage);                                                   // the agent under test
 *     mock.onAsk('billing', (msg) => ({ refund: msg.amount < 100 }), { capabilities: ['payments'] });
 *     mock.onNotify('audit');
 *     await mock.start();
 *     const reply = await mock.ask('triage', { ticket: 'refund 40 EUR' });
 *     mock.expectAsked('billing', { amount: 40 });                        // AssertionError when it was not
 *     mock.expectNotified('audit');
 *     await mock.stop();
 *
 * An AutoAgent under test asks a model: give it one with `providers` (e.g. `scriptedModel(...)`).
 */
import { AssertionError } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentClass, AgentOptions } from '../agent/auto-agent.js';
import { CustomAgent, type CustomAgentClass, type PeerContext } from '../agent/custom-agent.js';
import type { AgentDefinition } from '../agent/definition.js';
import { checkedSession, type Session, type SessionInput, sessionHeader } from '../agent/session.js';
import type { SettingsInput } from '../config/settings.js';
import type { Provider } from '../llm/types.js';
import { Mesh } from '../mesh/mesh.js';
import { createMemoryStorage } from '../storage/index.js';
import type { Bus } from '../transport/bus.js';
import { connectInProcess, InProcessBroker } from '../transport/index.js';
import { describe, describeMatch, type ValueMatch, valueMatches } from './match.js';

/** How a mocked peer answers: a function of the request (its return value, or what it resolves to, is the reply). */
export type MockHandler = (message: unknown, context: PeerContext) => unknown;

/** What a mocked peer answers: a handler, or a value (the same reply to every request). */
export type MockReply = MockHandler | unknown;

export interface MockPeerOptions {
  /** Its tags in the catalog: what `peers.discover({ capability })` and workflow steps find it by. */
  capabilities?: string[];
  description?: string;
}

/** One request or notification a mocked peer received. */
export interface MockCall {
  kind: 'ask' | 'notify';
  role: string;
  message: unknown;
  session: Session;
}

export interface MockMeshOptions {
  /** Settings over `.env` and the environment (LOG_DIRECTORY defaults to a temporary folder removed on stop). */
  config?: SettingsInput;
  /** The model(s) AutoAgents under test ask (e.g. `[scriptedModel(rules)]`). */
  providers?: Provider[];
}

interface MockPeer {
  role: string;
  options: MockPeerOptions;
  ask: { reply: MockReply } | null;
  notify: boolean;
}

export class MockMesh {
  /** The mesh the agents under test and the mocked peers run on (its catalog, kv, workflows). */
  readonly mesh: Mesh;
  private readonly peers = new Map<string, MockPeer>();
  private readonly recorded: MockCall[] = [];
  private readonly broker = new InProcessBroker();
  private readonly bus: Bus;
  /** The mesh's settings: LOG_DIRECTORY is set at start() when the caller gave none (read by mesh.start()). */
  private readonly config: Record<string, unknown>;
  /** The temporary log folder made by start(), removed by stop(). */
  private logDirectory: string | null = null;
  private served = false;

  constructor(options: MockMeshOptions = {}) {
    this.bus = connectInProcess(this.broker);
    this.config = { ...options.config };
    this.mesh = new Mesh({
      bus: this.bus,
      storage: createMemoryStorage(),
      config: this.config as SettingsInput,
      ...(options.providers ? { providers: options.providers } : {}),
    });
  }

  /** Adds an agent under test: a CustomAgent class, an AutoAgent class or a `defineAgent` definition. */
  add(agent: AgentClass | AgentDefinition | CustomAgentClass, options?: AgentOptions): this {
    this.mesh.add(agent, options);
    return this;
  }

  /** Mocks a peer that answers `peers.ask(role, …)` with what `handler` returns for the message. */
  onAsk(role: string, handler: MockHandler, options?: MockPeerOptions): this;
  /** Mocks a peer that answers `peers.ask(role, …)` with `reply`, whatever it is asked. */
  onAsk(role: string, reply: unknown, options?: MockPeerOptions): this;
  onAsk(role: string, reply: MockReply, options: MockPeerOptions = {}): this {
    this.peer(role, options, 'onAsk').ask = { reply };
    return this;
  }

  /** Mocks a peer that takes `peers.notify(role, …)` (recorded; nothing is answered). */
  onNotify(role: string, options: MockPeerOptions = {}): this {
    this.peer(role, options, 'onNotify').notify = true;
    return this;
  }

  /** Every request and notification the mocked peers received, oldest first. */
  get calls(): readonly MockCall[] {
    return this.recorded;
  }

  /** What the mocked peer `role` was asked, oldest first. */
  asked(role: string): unknown[] {
    return this.recorded.filter((c) => c.kind === 'ask' && c.role === role).map((c) => c.message);
  }

  /** What the mocked peer `role` was notified of, oldest first. */
  notified(role: string): unknown[] {
    return this.recorded.filter((c) => c.kind === 'notify' && c.role === role).map((c) => c.message);
  }

  /** Starts the mesh: the mocked peers and the agents under test are served. One start, one stop per MockMesh. */
  async start(): Promise<void> {
    if (this.served) throw new Error('MockMesh.start() runs once: make a new MockMesh for the next test.');
    this.served = true;
    try {
      for (const peer of this.peers.values()) this.mesh.add(this.mockAgentClass(peer));
      if (this.config.LOG_DIRECTORY === undefined) {
        this.logDirectory = mkdtempSync(join(tmpdir(), 'automesh-mock-mesh-'));
        this.config.LOG_DIRECTORY = this.logDirectory;
      }
      await this.mesh.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops the mesh, closes its broker and removes the temporary log folder. */
  async stop(): Promise<void> {
    try {
      await this.mesh.stop();
      await this.bus.close();
    } finally {
      if (this.logDirectory) rmSync(this.logDirectory, { recursive: true, force: true, maxRetries: 3 });
      this.logDirectory = null;
    }
  }

  /** Asks an agent (under test) as a peer would, with an optional session; resolves with its reply. */
  ask(role: string, message?: unknown, options: { session?: SessionInput; timeoutMs?: number } = {}): Promise<unknown> {
    const session = checkedSession(options.session ?? {}, 'mock-mesh');
    return this.mesh.call(role, message, {
      headers: sessionHeader(session),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /**
   * Asserts that the mocked peer `role` was asked with a matching message (any message when `match` is left out);
   * returns the matching calls. With `times`, exactly that many must match.
   */
  expectAsked(role: string, match?: ValueMatch, options: { times?: number } = {}): MockCall[] {
    return this.expect('ask', role, match, options.times);
  }

  /** Asserts that the mocked peer `role` was notified with a matching message; returns the matching calls. */
  expectNotified(role: string, match?: ValueMatch, options: { times?: number } = {}): MockCall[] {
    return this.expect('notify', role, match, options.times);
  }

  /** Asserts that the mocked peer `role` was never asked (with a matching message, when `match` is given). */
  expectNotAsked(role: string, match?: ValueMatch): void {
    this.expect('ask', role, match, 0);
  }

  /** Forgets the calls recorded so far (the mocked replies stay). */
  clearCalls(): void {
    this.recorded.length = 0;
  }

  private expect(kind: MockCall['kind'], role: string, match: ValueMatch | undefined, times?: number): MockCall[] {
    this.known(role, kind === 'ask' ? 'expectAsked' : 'expectNotified');
    const all = this.recorded.filter((c) => c.kind === kind && c.role === role);
    const hits = match === undefined ? all : all.filter((c) => valueMatches(c.message, match));
    const ok = times === undefined ? hits.length > 0 : hits.length === times;
    if (ok) return hits;
    const verb = kind === 'ask' ? 'asked' : 'notified';
    const what = match === undefined ? 'any message' : describeMatch(match);
    const count = times === undefined ? 'at least once' : times === 0 ? 'never' : `exactly ${times} time(s)`;
    const seen =
      all.length === 0
        ? `it was never ${verb}`
        : `it was ${verb} ${all.length} time(s): ${all.map((c, i) => `#${i + 1} ${describe(c.message)}`).join('; ')}`;
    const others = [...new Set(this.recorded.filter((c) => c.role !== role).map((c) => `${c.role} (${c.kind})`))];
    throw new AssertionError({
      message:
        `Expected peer '${role}' to be ${verb} with ${what} ${count}; ${seen}.`
        + (others.length > 0 ? ` Other mocked peers received: ${others.join(', ')}.` : ''),
      actual: all.map((c) => c.message),
      expected: match,
      operator: kind === 'ask' ? 'expectAsked' : 'expectNotified',
    });
  }

  private peer(role: string, options: MockPeerOptions, method: string): MockPeer {
    if (this.served) throw new Error(`MockMesh.${method}('${role}') must come before start().`);
    const peer = this.peers.get(role) ?? { role, options: {}, ask: null, notify: false };
    peer.options = { ...peer.options, ...options };
    this.peers.set(role, peer);
    return peer;
  }

  private known(role: string, method: string): void {
    if (this.peers.has(role)) return;
    const mocked = [...this.peers.keys()].join(', ') || 'none';
    throw new Error(
      `MockMesh.${method}('${role}'): '${role}' is not a mocked peer (mocked: ${mocked}); mock it with onAsk or onNotify.`,
    );
  }

  /** A CustomAgent class serving one mocked peer: its requests and notifications are recorded, then answered. */
  private mockAgentClass(peer: MockPeer): CustomAgentClass {
    const record = (kind: MockCall['kind'], message: unknown, context: PeerContext): void => {
      this.recorded.push({ kind, role: peer.role, message, session: context.session });
    };
    return class MockPeerAgent extends CustomAgent {
      static override role = peer.role;
      static override capabilities = peer.options.capabilities ?? [];
      static override description = peer.options.description ?? `Mocked peer '${peer.role}' (MockMesh).`;
      override async onPeerRequest(message: unknown, context: PeerContext): Promise<unknown> {
        record('ask', message, context);
        if (!peer.ask) {
          throw new Error(`Mocked peer '${peer.role}' takes notifications only; mock its replies with onAsk.`);
        }
        const { reply } = peer.ask;
        return typeof reply === 'function' ? await reply(message, context) : reply;
      }
      override async onPeerNotify(message: unknown, context: PeerContext): Promise<void> {
        record('notify', message, context);
      }
    };
  }
}
