/**
 * `this.peers` (DESIGN.md §10, JarvisCore's PeerClient): how an agent talks to the other agents of the mesh, in one
 * process or across machines alike — ask (request/reply), notify (fire and forget), broadcast (ask everyone, collect
 * for a bounded time), askAsync + collect, and discovery by capability from the live catalog. Every request carries
 * the current session (see `session.ts`). Every failure is a MeshError.
 */
import type { Caller } from '../transport/oam/caller.js';
import type { Catalog } from '../transport/oam/catalog.js';
import type { CatalogEntry } from '../transport/oam/contract-types.js';
import { isMeshError, MeshError } from '../transport/oam/mesh-error.js';
import { cognitiveContextText } from './peer-context.js';
import { type ContractSource, describePeers, type PeerDescription } from './peer-directory.js';
import { peerAllowed } from './peer-patterns.js';
import { type AnthropicTool, type OpenAiTool, type PeerToolFormat, peerTools, runPeerTool } from './peer-tools.js';
import { checkedSession, currentSession, type Session, type SessionInput, sessionHeader } from './session.js';

export interface PeerInfo {
  role: string;
  description: string;
  capabilities: string[];
}

export interface AskOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The session to carry; default: the session of the request being handled, or a new one. */
  session?: SessionInput;
}

export interface BroadcastOptions {
  /** Only peers with this capability (default: every peer but this agent). */
  capability?: string;
  /** How long replies are collected (default 5 s); who has not answered by then is left out. */
  timeoutMs?: number;
  session?: SessionInput;
}

/** One answer to a broadcast: the reply, or the error the peer answered with. */
export type BroadcastReply = { role: string; reply: unknown } | { role: string; error: MeshError };

export type DiscoveryStrategy = 'round_robin' | 'random' | 'least_recent';

export interface DiscoverOptions {
  capability?: string;
  /** The order of the peers found (default `round_robin`). */
  strategy?: DiscoveryStrategy;
}

/** A request in flight, from `askAsync`. */
export interface PeerRequest {
  readonly role: string;
  readonly result: Promise<unknown>;
}

export type CollectedReply =
  | { role: string; status: 'ok'; reply: unknown }
  | { role: string; status: 'error'; error: MeshError }
  | { role: string; status: 'pending' };

/** Marks a `notify`: the receiver runs `onPeerNotify`, and nobody waits for a reply. */
export const NOTIFY_HEADER = 'X-Automesh-Notify';

const ASK_TIMEOUT_MS = 30_000;
const BROADCAST_TIMEOUT_MS = 5_000;
const STRATEGIES: readonly DiscoveryStrategy[] = ['round_robin', 'random', 'least_recent'];

export class Peers {
  readonly #self: string;
  readonly #caller: Caller;
  readonly #catalog: Pick<Catalog, 'list' | 'lookup'>;
  /** Where round_robin starts next, per capability. */
  readonly #turns = new Map<string, number>();
  /** When this agent last asked each role (least_recent). */
  readonly #lastAsked = new Map<string, number>();
  #clock = 0;
  readonly #contracts: ContractSource;

  /** `contracts` reads a peer's contract (the mesh's registry): what models are told each peer takes. */
  constructor(self: string, caller: Caller, catalog: Pick<Catalog, 'list' | 'lookup'>, contracts: ContractSource) {
    this.#self = self;
    this.#caller = caller;
    this.#catalog = catalog;
    this.#contracts = contracts;
  }

  /** Asks a peer and waits for its reply (its handler's return value). */
  async ask(role: string, message?: unknown, options: AskOptions = {}): Promise<unknown> {
    const headers = sessionHeader(this.#session(options.session));
    this.#lastAsked.set(role, ++this.#clock);
    try {
      return await this.#caller.call(role, message, {
        timeoutMs: options.timeoutMs ?? ASK_TIMEOUT_MS,
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw this.#named(err, role);
    }
  }

  /** Sends to a peer without waiting; resolves once sent. A role nobody lists is `not_found`. */
  async notify(role: string, message?: unknown, options: { session?: SessionInput } = {}): Promise<void> {
    const headers = { ...sessionHeader(this.#session(options.session)), [NOTIFY_HEADER]: 'true' };
    if (this.#catalog.lookup(role) === undefined) throw this.#notFound(role);
    await this.#caller.send(role, message, { headers });
  }

  /**
   * Asks every peer (with the capability) at once and collects the answers that come within the time: replies, and
   * errors peers answered with. A peer that does not answer in time is left out; nobody answering is `[]`.
   */
  async broadcast(message?: unknown, options: BroadcastOptions = {}): Promise<BroadcastReply[]> {
    const session = this.#session(options.session);
    const timeoutMs = options.timeoutMs ?? BROADCAST_TIMEOUT_MS;
    const targets = this.list(options.capability).map((peer) => peer.role);
    const answers = await Promise.all(
      targets.map(async (role): Promise<BroadcastReply | null> => {
        try {
          return { role, reply: await this.ask(role, message, { timeoutMs, session }) };
        } catch (err) {
          const error = err as MeshError;
          // Silence within the time is "did not answer"; gone since the catalog listed it, likewise.
          if (error.code === 'timeout' || error.code === 'not_available' || error.code === 'not_found') return null;
          return { role, error };
        }
      }),
    );
    return answers.filter((answer): answer is BroadcastReply => answer !== null);
  }

  /** The other agents on the mesh that take requests (this agent left out), optionally with a capability. */
  list(capability?: string): PeerInfo[] {
    const entries = this.#catalog.list({ invocable: true, ...(capability ? { tags: [capability] } : {}) });
    return entries.filter((entry) => entry.name !== this.#self).map(peerInfo);
  }

  /** The peers with a capability, in the strategy's order (the first is the one to ask). */
  discover(options: DiscoverOptions = {}): PeerInfo[] {
    const strategy = options.strategy ?? 'round_robin';
    if (!STRATEGIES.includes(strategy)) {
      throw new MeshError(
        'invalid_input',
        `Unknown discovery strategy ${JSON.stringify(strategy)}: use ${STRATEGIES.join(', ')}.`,
        { agent: this.#self },
      );
    }
    const found = this.list(options.capability);
    if (found.length < 2) return found;
    if (strategy === 'random') return shuffled(found);
    if (strategy === 'least_recent') {
      return [...found].sort((a, b) => (this.#lastAsked.get(a.role) ?? 0) - (this.#lastAsked.get(b.role) ?? 0));
    }
    const key = options.capability ?? '';
    const turn = this.#turns.get(key) ?? 0;
    this.#turns.set(key, turn + 1);
    const start = turn % found.length;
    return [...found.slice(start), ...found.slice(0, start)];
  }

  /** The one peer to ask for a capability; `not_found` naming the capabilities there are when none has it. */
  discoverOne(options: DiscoverOptions = {}): PeerInfo {
    const found = this.discover(options)[0];
    if (found) return found;
    const there = [...new Set(this.list().flatMap((peer) => peer.capabilities))].sort();
    throw new MeshError(
      'not_found',
      `No peer has capability '${options.capability ?? ''}'; the capabilities on the mesh are: ${there.join(', ') || 'none'}.`,
      { agent: this.#self },
    );
  }

  /** Starts a request and returns at once; `collect` gathers its reply later. */
  askAsync(role: string, message?: unknown, options: AskOptions = {}): PeerRequest {
    // The session is read now, while the caller's session is current, not when the promise runs.
    const session = this.#session(options.session);
    const result = this.ask(role, message, { ...options, session });
    // Observed here so that a failure nobody collects is not an unhandled rejection; collect() reports it.
    result.catch(() => undefined);
    return { role, result };
  }

  /** The replies of requests started with `askAsync`, waiting up to `timeoutMs` (default 30 s) for them all. */
  async collect(requests: readonly PeerRequest[], options: { timeoutMs?: number } = {}): Promise<CollectedReply[]> {
    const pending = Symbol('pending');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof pending>((resolve) => {
      timer = setTimeout(() => resolve(pending), options.timeoutMs ?? ASK_TIMEOUT_MS);
    });
    try {
      return await Promise.all(
        requests.map(async ({ role, result }): Promise<CollectedReply> => {
          try {
            const reply = await Promise.race([result, deadline]);
            return reply === pending ? { role, status: 'pending' } : { role, status: 'ok', reply };
          } catch (err) {
            return { role, status: 'error', error: err as MeshError };
          }
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The peers with the JSON Schemas of their contracts, as the catalog lists them now: those with `capability`, and
   * those `patterns` allow (agent names, `channel.*`, `*`; see `defineAgent({ peers })`) when given.
   */
  describe(options: { capability?: string; patterns?: readonly string[] } = {}): Promise<PeerDescription[]> {
    const { capability, patterns } = options;
    const listed = this.list(capability).filter((peer) => patterns === undefined || peerAllowed(patterns, peer.role));
    return describePeers(listed, this.#contracts);
  }

  /**
   * Tool definitions `ask_peer`, `broadcast`, `list_peers` for a model, in the provider's shape, built from the
   * catalog as it is now (call again for a later turn: peers come and go). Run the calls with `runTool`.
   */
  async asTools(options: { format: 'anthropic' }): Promise<AnthropicTool[]>;
  async asTools(options: { format: 'openai' }): Promise<OpenAiTool[]>;
  async asTools(options: { format: PeerToolFormat }): Promise<AnthropicTool[] | OpenAiTool[]>;
  async asTools(options: { format: PeerToolFormat }): Promise<AnthropicTool[] | OpenAiTool[]> {
    const format = (options as { format?: unknown } | undefined)?.format as PeerToolFormat;
    return peerTools(await this.describe(), format, this.#self);
  }

  /**
   * Runs a tool call of a model given the tools of `asTools`: `input` is its arguments, an object or their JSON
   * text. Resolves with the JSON data to send back; rejects with a `MeshError` (an unknown tool or bad arguments are
   * `invalid_input`; a peer's failure keeps its code).
   */
  runTool(name: string, input?: unknown): Promise<unknown> {
    return runPeerTool(
      {
        ask: (role, message) => this.ask(role, message),
        broadcast: (m, o) => this.broadcast(m, o),
        describe: (capability) => this.describe(capability === undefined ? {} : { capability }),
      },
      name,
      input,
      this.#self,
    );
  }

  /** A prompt text saying which peers are on the mesh now and what each takes and returns (from their contracts). */
  async cognitiveContext(): Promise<string> {
    return cognitiveContextText(await this.describe());
  }

  #session(input: SessionInput | undefined): Session {
    if (input !== undefined) return checkedSession(input, this.#self);
    return currentSession() ?? checkedSession({}, this.#self);
  }

  /** A `not_found` from the caller, with the roles there are (what the caller of `ask` can pick from). */
  #named(err: unknown, role: string): unknown {
    if (isMeshError(err) && err.code === 'not_found' && err.agent === role) return this.#notFound(role, err);
    return err;
  }

  #notFound(role: string, cause?: unknown): MeshError {
    const roles = this.list().map((peer) => peer.role);
    return new MeshError(
      'not_found',
      `No peer '${role}' on the mesh; the peers there are: ${roles.join(', ') || 'none'}. Ask one of them, or start the agent '${role}'.`,
      { agent: role, ...(cause === undefined ? {} : { cause }) },
    );
  }
}

function peerInfo(entry: CatalogEntry): PeerInfo {
  return { role: entry.name, description: entry.description, capabilities: [...entry.tags] };
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
