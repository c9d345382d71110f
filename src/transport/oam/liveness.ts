/**
 * Liveness and recovery of one automesh host (`oam-wire.md` §9, issue 14 item 8).
 *
 * What OAM main peers see: the instance record `mesh-instances/{instanceId}` = `{"agents": [sorted names]}`; on a
 * graceful stop the record is deleted, the agents nobody else serves leave the catalog and the registry, and a death
 * notice goes to `mesh.death.{name}` (no headers, `reason: graceful_shutdown`).
 *
 * How a killed host is noticed: every automesh host heartbeats its record in automesh's own bucket
 * `automesh-hosts` (`{instanceId}` → `{"node","agents"}`, rewritten every `heartbeatMs` by compare-and-set) and
 * watches that bucket. A host whose record has not changed for `deadAfterMs` is claimed dead by a compare-and-set
 * of its record at the last revision seen: only one sweeper wins, and a host that was merely slow wins instead by
 * beating first. The winner cleans up as OAM main's monitor does (`reason: disconnect`), so a call in flight to
 * the dead host fails with `agent_died` through the caller's `mesh.death.{name}` subscription. This needs no system
 * account and no separate monitor process: every live host sweeps. A host that finds its own record claimed (it
 * was too slow) registers itself again.
 *
 * After a broker restart (the bus's `reconnected` event) the host opens its buckets and watches again and
 * re-registers everything: registry documents, catalog entries, the instance record. The broker's store may have
 * been lost, so nothing is assumed to have survived.
 */
import type { Bus, BusMessage, BusSubscription, KvBucket, KvEntry, KvWatch } from '../bus.js';
import { isBusError } from '../bus-errors.js';
import { Catalog } from './catalog.js';
import type { RegistryDocument } from './contract-types.js';
import { pythonJsonBytes } from './python-json.js';
import { Registry } from './registry.js';
import { catalogEntryOf, pythonIsoTime } from './registry-document.js';
import { BUCKET, clientName, decodeBody, encodeBody, subjects } from './wire.js';

const CLIENT_PREFIX = clientName('');

/** automesh's heartbeat bucket (not an OAM bucket; OAM peers never read it). */
export const HOSTS_BUCKET = 'automesh-hosts';

export const DEFAULT_HEARTBEAT_MS = 250;
export const DEFAULT_DEAD_AFTER_MS = 1_000;

export type DeathReason = 'graceful_shutdown' | 'disconnect';

/** The body of a `mesh.death.{name}` notice, key order as OAM main writes it. */
export interface DeathNotice {
  agent: string;
  reason: DeathReason;
  detected_at: string;
  instance_id: string;
}

export interface HostOptions extends HostSettings {
  bus: Bus;
  catalog: Catalog;
  registry: Registry;
}

/** Everything {@link Host.open} needs besides the bus. */
export interface HostSettings {
  /** 32 hex characters (`newInstanceId()`); also the NATS client name's suffix (`oam-host-{id}`). */
  instanceId: string;
  /** NODE_NAME, for people reading the hosts bucket. */
  node: string;
  /** Problems that are not fatal (a heartbeat that failed, a sweep that failed); the mesh makes them `warning`s. */
  onWarning: (message: string) => void;
  /** Period of the heartbeat and of the check for silent hosts. Default {@link DEFAULT_HEARTBEAT_MS}. */
  heartbeatMs?: number;
  /** A host silent this long is dead. Default {@link DEFAULT_DEAD_AFTER_MS}. */
  deadAfterMs?: number;
  /**
   * A connection under the server's system account, when one is configured: the host then also listens to
   * `$SYS.ACCOUNT.*.DISCONNECT` and sweeps an automesh host whose connection closed at once (tens of ms after a
   * SIGKILL) instead of after `deadAfterMs`. Heartbeats still catch hosts that hang with their connection open.
   */
  advisories?: Bus;
}

/** The server's disconnect advisories (system account only), as OAM main's monitor reads them. */
export const DISCONNECT_ADVISORIES = '$SYS.ACCOUNT.*.DISCONNECT';

interface HostRecord {
  node: string;
  agents: string[];
  /** Set by the sweeper that claimed the host dead. */
  swept_by?: string;
}

interface SeenHost {
  revision: number;
  /** performance.now() when the revision arrived. */
  at: number;
  record: HostRecord;
}

const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort();

function readHostRecord(entry: KvEntry): HostRecord {
  try {
    const body = decodeBody(entry.value, `${HOSTS_BUCKET}/${entry.key}`) as Partial<HostRecord> | undefined;
    const record: HostRecord = {
      node: typeof body?.node === 'string' ? body.node : '',
      agents: Array.isArray(body?.agents) ? body.agents.filter((a): a is string => typeof a === 'string') : [],
    };
    if (typeof body?.swept_by === 'string') record.swept_by = body.swept_by;
    return record;
  } catch {
    return { node: '', agents: [] };
  }
}

/** The agents an instance record lists (OAM main's `.get("agents", [])`); [] for anything else. */
function agentsOfInstanceRecord(entry: KvEntry | null): string[] {
  if (entry === null || entry.operation !== 'PUT') return [];
  try {
    const body = decodeBody(entry.value, `mesh-instances/${entry.key}`) as { agents?: unknown } | undefined;
    return Array.isArray(body?.agents) ? body.agents.filter((a): a is string => typeof a === 'string') : [];
  } catch {
    return [];
  }
}

/** One automesh host's presence on the mesh: its agents' registration, heartbeat, sweeping and graceful stop. */
export class Host {
  readonly instanceId: string;
  readonly #bus: Bus;
  readonly #catalog: Catalog;
  readonly #registry: Registry;
  readonly #node: string;
  readonly #warn: (message: string) => void;
  readonly #heartbeatMs: number;
  readonly #deadAfterMs: number;
  readonly #documents = new Map<string, RegistryDocument>();
  #instances!: KvBucket;
  #hosts!: KvBucket;
  #watch: KvWatch | null = null;
  #seen = new Map<string, SeenHost>();
  #sweeping = new Set<string>();
  #ownRevision = 0;
  #timer: NodeJS.Timeout | null = null;
  #beating = false;
  #running = false;
  #heartbeatFailing = false;
  #offConnection: (() => void) | null = null;
  readonly #advisories: Bus | null;
  #advisorySubscription: BusSubscription | null = null;
  #recovery: Promise<void> = Promise.resolve();
  #reassertQueued = false;

  constructor(options: HostOptions) {
    this.instanceId = options.instanceId;
    this.#bus = options.bus;
    this.#catalog = options.catalog;
    this.#registry = options.registry;
    this.#node = options.node;
    this.#warn = options.onWarning;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#deadAfterMs = options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    this.#advisories = options.advisories ?? null;
  }

  /**
   * Opens the catalog (loaded and watched), the registry and a host on `bus`; the host is started by
   * {@link Host.start}. The catalog's `lookup` is what the caller's pre-flight reads.
   */
  static async open(bus: Bus, settings: HostSettings): Promise<Host> {
    const catalog = await Catalog.open(bus, { onWarning: settings.onWarning });
    await catalog.start();
    return new Host({ ...settings, bus, catalog, registry: await Registry.open(bus) });
  }

  /** The catalog this host registers in (a warm cache of every agent on the mesh). */
  get catalog(): Catalog {
    return this.#catalog;
  }

  get registry(): Registry {
    return this.#registry;
  }

  /** The agents this host serves, sorted. */
  get agents(): string[] {
    return sorted(this.#documents.keys());
  }

  /**
   * Opens the buckets, starts watching the other hosts, and registers `documents` (each: registry put, then catalog
   * compare-and-set, per §7), then writes the instance record and the first heartbeat. Throws `invalid_definition`
   * when a function agent's name is served elsewhere with other schemas; the agents registered before the refusal
   * are then taken off the mesh again, as on a graceful stop.
   */
  async start(documents: readonly RegistryDocument[] = []): Promise<void> {
    await this.#openBuckets();
    await this.#openWatch();
    this.#running = true;
    try {
      for (const document of documents) await this.#register(document);
      await this.#writeRecords();
    } catch (err) {
      await this.stop().catch((cleanup: unknown) =>
        this.#warn(
          `Taking this host's agents off the mesh after a failed start failed too: ${(cleanup as Error).message}`,
        ),
      );
      throw err;
    }
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
    this.#offConnection = this.#bus.onConnection((event) => {
      if (event.type === 'reconnected') this.#recovery = this.#recovery.then(() => this.recover());
    });
    this.#advisorySubscription =
      this.#advisories?.subscribe(DISCONNECT_ADVISORIES, (message) => this.#onDisconnect(message)) ?? null;
  }

  /** A client closed its connection: when it was an automesh host we have seen, sweep it now. */
  #onDisconnect(message: BusMessage): void {
    let name: unknown;
    try {
      name = (decodeBody(message.data, message.subject) as { client?: { name?: unknown } } | undefined)?.client?.name;
    } catch {
      return;
    }
    if (typeof name !== 'string' || !name.startsWith(CLIENT_PREFIX)) return;
    const id = name.slice(CLIENT_PREFIX.length);
    if (id !== this.instanceId && this.#seen.has(id) && this.#running) void this.#sweep(id);
  }

  /** Registers one more agent on a running host and lists it in the instance record. */
  async add(document: RegistryDocument): Promise<void> {
    await this.#register(document);
    await this.#writeRecords();
  }

  /**
   * Registry put, then catalog compare-and-set. Refused (`invalid_definition`, both schemas shown) when the stored
   * contract has other schemas and another live process serves it; a leftover of a stopped process is replaced.
   */
  async #register(document: RegistryDocument): Promise<void> {
    const conflict = await this.#registry.schemaConflict(document);
    if (conflict !== null && (await this.#servedElsewhere(document.name))) throw conflict;
    await this.#registry.put(document);
    await this.#catalog.register(catalogEntryOf(document));
    this.#documents.set(document.name, document);
  }

  /**
   * Whether a process other than this one serves `name`: an instance record of another host lists it (an automesh
   * host whose heartbeat stopped is swept first and does not count), or the catalog lists it while no instance record
   * does (an OAM 0.2.0 peer, which writes none).
   */
  async #servedElsewhere(name: string): Promise<boolean> {
    const records = await this.#instanceRecords();
    let listedByAny = false;
    for (const [id, agents] of records) {
      if (!agents.includes(name)) continue;
      listedByAny = true;
      if (id !== this.instanceId && (await this.#stillAlive(id))) return true;
    }
    return !listedByAny && this.#catalog.lookup(name) !== undefined;
  }

  /** True unless `id` is an automesh host that stays silent for `deadAfterMs` (then it is swept on the spot). */
  async #stillAlive(id: string): Promise<boolean> {
    let first = this.#seen.get(id);
    if (first === undefined) {
      const record = await this.#hosts.get(id);
      if (record === null) return true; // not an automesh host (OAM main): its instance record is all we know
      first = { revision: record.revision, at: performance.now(), record: readHostRecord(record) };
      this.#seen.set(id, first);
    }
    const deadline = first.at + this.#deadAfterMs;
    while (performance.now() < deadline) {
      const now = this.#seen.get(id);
      if (now === undefined) return false;
      if (now.revision !== first.revision) return true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, this.#heartbeatMs)));
    }
    await this.#sweep(id);
    return false;
  }

  /** Every instance record: instance id → agents. */
  async #instanceRecords(): Promise<Map<string, string[]>> {
    const records = new Map<string, string[]>();
    for (const id of await this.#instances.keys()) {
      records.set(id, agentsOfInstanceRecord(await this.#instances.get(id)));
    }
    return records;
  }

  async #openBuckets(): Promise<void> {
    this.#instances = await this.#bus.kv(BUCKET.instances, { history: 1 });
    this.#hosts = await this.#bus.kv(HOSTS_BUCKET, { history: 1 });
  }

  async #openWatch(): Promise<void> {
    this.#watch?.stop();
    this.#seen = new Map();
    const watch = await this.#hosts.watch({ key: '>', initialValues: true });
    this.#watch = watch;
    void this.#follow(watch);
  }

  async #follow(watch: KvWatch): Promise<void> {
    try {
      for await (const entry of watch) this.#observe(entry);
    } catch (err) {
      if (this.#watch === watch && this.#running) this.#warn(`The hosts watch failed: ${(err as Error).message}`);
    }
  }

  #observe(entry: KvEntry): void {
    if (entry.key === this.instanceId) {
      // A sweeper claimed this live host dead (it was too slow to beat): register again.
      if (entry.operation === 'PUT' && readHostRecord(entry).swept_by !== undefined && this.#running) {
        this.#scheduleReassert('a sweeper took it for dead while it was slow');
      }
      return;
    }
    if (entry.operation !== 'PUT') {
      this.#seen.delete(entry.key);
      return;
    }
    this.#seen.set(entry.key, { revision: entry.revision, at: performance.now(), record: readHostRecord(entry) });
  }

  #tick(): void {
    if (!this.#running) return;
    void this.#beat();
    const now = performance.now();
    for (const [id, seen] of this.#seen) {
      if (now - seen.at > this.#deadAfterMs && !this.#sweeping.has(id)) void this.#sweep(id);
    }
  }

  /** One heartbeat: a compare-and-set of our record; losing it means a sweeper claimed us. */
  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      const value = pythonJsonBytes({ node: this.#node, agents: this.agents });
      try {
        this.#ownRevision = await this.#hosts.update(this.instanceId, value, this.#ownRevision);
      } catch (err) {
        if (!isBusError(err, 'kv_conflict')) throw err;
        // A sweeper claimed (or removed) our record: the watch has seen it, or will; write everything again.
        this.#scheduleReassert('a sweeper took it for dead while it was slow');
        return;
      }
      if (this.#heartbeatFailing) this.#warn('Heartbeats reach the broker again.');
      this.#heartbeatFailing = false;
    } catch (err) {
      if (!this.#heartbeatFailing && this.#running) {
        this.#warn(`A heartbeat failed (${(err as Error).message}); other hosts may take this one for dead.`);
      }
      this.#heartbeatFailing = true;
    } finally {
      this.#beating = false;
    }
  }

  /** Claims a silent host by compare-and-set at the last revision seen, then cleans up after it. */
  async #sweep(id: string): Promise<void> {
    const seen = this.#seen.get(id);
    if (seen === undefined || this.#sweeping.has(id)) return;
    this.#sweeping.add(id);
    try {
      const claim = pythonJsonBytes({ ...seen.record, swept_by: this.instanceId });
      try {
        await this.#hosts.update(id, claim, seen.revision);
      } catch (err) {
        if (isBusError(err, 'kv_conflict') || isBusError(err, 'kv_key_exists')) return; // it beat, or another sweeper won
        throw err;
      }
      await this.#cleanUp(id, seen.record.agents, 'disconnect');
      await this.#hosts.delete(id);
      this.#seen.delete(id);
    } catch (err) {
      this.#warn(`Cleaning up after the dead host ${id} failed: ${(err as Error).message}`);
    } finally {
      this.#sweeping.delete(id);
    }
  }

  /**
   * OAM main's cleanup of a gone instance: delete its instance record, then for each of its agents that no remaining
   * instance record lists: catalog compare-and-set removal, registry delete, death notice.
   */
  async #cleanUp(id: string, fallbackAgents: readonly string[], reason: DeathReason): Promise<string[]> {
    const record = await this.#instances.get(id);
    const agents = record === null ? [...fallbackAgents] : agentsOfInstanceRecord(record);
    if (record !== null) await this.#instances.delete(id);
    const survivors = new Set([...(await this.#instanceRecords()).values()].flat());
    const gone = sorted(agents).filter((name) => !survivors.has(name));
    for (const name of gone) {
      await this.#catalog.deregister(name);
      await this.#registry.delete(name);
      this.#announceDeath(name, reason, id);
    }
    return gone;
  }

  #announceDeath(agent: string, reason: DeathReason, instanceId: string): void {
    const notice: DeathNotice = { agent, reason, detected_at: pythonIsoTime(new Date()), instance_id: instanceId };
    try {
      this.#bus.publish(subjects.death(agent), encodeBody(notice));
    } catch (err) {
      this.#warn(`The death notice of "${agent}" could not be sent: ${(err as Error).message}`);
    }
  }

  /** The instance record (OAM main's shape) and our heartbeat record. */
  async #writeRecords(): Promise<void> {
    await this.#instances.put(this.instanceId, pythonJsonBytes({ agents: this.agents }));
    this.#ownRevision = await this.#hosts.put(
      this.instanceId,
      pythonJsonBytes({ node: this.#node, agents: this.agents }),
    );
  }

  /** Queues one {@link Host.#reassert} (several reasons arriving together make one). */
  #scheduleReassert(why: string): void {
    if (this.#reassertQueued) return;
    this.#reassertQueued = true;
    this.#recovery = this.#recovery.then(() => {
      this.#reassertQueued = false;
      return this.#reassert(why);
    });
  }

  /** Registers everything again, after the broker came back or after a sweeper took this host for dead. */
  async #reassert(why: string): Promise<void> {
    if (!this.#running) return;
    this.#warn(`Registering this host's agents again: ${why}.`);
    try {
      for (const document of this.#documents.values()) {
        await this.#registry.put(document);
        await this.#catalog.register(catalogEntryOf(document));
      }
      await this.#writeRecords();
    } catch (err) {
      this.#warn(`Registering again failed (${(err as Error).message}); the next reconnect tries again.`);
    }
  }

  /**
   * After a broker restart: open the buckets again (creating them when the store was lost), restart the catalog
   * and hosts watches, and register every agent again. Called on the bus's `reconnected` event.
   */
  async recover(): Promise<void> {
    if (!this.#running) return;
    try {
      await this.#openBuckets();
      await this.#catalog.restart();
      await this.#registry.reopen();
      await this.#openWatch();
    } catch (err) {
      this.#warn(`Reopening the mesh buckets after a reconnect failed: ${(err as Error).message}`);
      return;
    }
    await this.#reassert('the broker connection came back');
  }

  /**
   * Stops heartbeating, sweeping and watching without any cleanup, as a crash would: the other hosts take this one
   * for dead after `deadAfterMs` and clean up after it. For a bus that is already gone, and for tests.
   */
  halt(): void {
    this.#running = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#offConnection?.();
    this.#advisorySubscription?.unsubscribe();
    this.#watch?.stop();
    this.#watch = null;
  }

  /**
   * Graceful stop (§9): stop heartbeating, delete the instance and heartbeat records, then for each of our agents
   * that no other instance serves: catalog removal, registry delete, and a `graceful_shutdown` death notice.
   * Resolves with the agents that left the mesh.
   */
  async stop(): Promise<string[]> {
    if (!this.#running) return [];
    this.halt();
    await this.#recovery;
    while (this.#beating) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      await this.#hosts.delete(this.instanceId);
    } catch (error) {
      // The heartbeat record is only a hint: left behind, it goes stale and the others sweep it. A stop goes on to
      // take its agents off the mesh (the hosts bucket can be missing after a broker lost its store, until a
      // provider makes it again).
      this.#warn(
        `Could not delete this instance's heartbeat record (${error instanceof Error ? error.message : String(error)}); `
          + 'the other hosts will sweep it once it goes stale.',
      );
    }
    const gone = await this.#cleanUp(this.instanceId, this.agents, 'graceful_shutdown');
    await this.#bus.flush();
    return gone;
  }
}
