/**
 * The catalog: every agent on the mesh, local or remote, any language, from a warm cache of the `mesh-catalog`
 * bucket's one key. The cache is loaded at start and kept live by a KV watch, so `list`/`lookup` never touch the
 * network (the caller's pre-flight reads it on every call). Writes are OAM's compare-and-set (`oam-wire.md` §7):
 * read the array, replace our element, `create` when the key is missing or `update` at the revision read, up to 10
 * tries 10 ms apart. A malformed element written by someone else is skipped with a warning and the watch goes on.
 */
import type { Bus, KvBucket, KvEntry, KvWatch } from '../bus.js';
import { isBusError } from '../bus-errors.js';
import { catalogEntry, catalogWith, encodeCatalog, parseCatalog, type StoredCatalogEntry } from './catalog-document.js';
import type { CatalogCapabilities, CatalogEntry } from './contract-types.js';
import { MeshError } from './mesh-error.js';
import { BUCKET, CATALOG_KEY } from './wire.js';

/** `catalog({ channel, tags, streaming, invocable })`, as OAM main filters. */
export interface CatalogFilter {
  /** Entries named `channel` or `channel.…` (a name prefix on dot boundaries). */
  channel?: string;
  /** Entries carrying every one of these tags. */
  tags?: readonly string[];
  streaming?: boolean;
  invocable?: boolean;
}

export interface CatalogOptions {
  /**
   * Told once about each malformed element (or non-array value) someone else wrote, for as long as it stays; the
   * mesh turns these into `warning` events. Never told about our own writes: those are checked before they go out.
   */
  onWarning: (message: string) => void;
}

/** OAM's CAS budget: 10 tries, 10 ms apart. */
export const CATALOG_CAS_TRIES = 10;
export const CATALOG_CAS_PAUSE_MS = 10;

/** Pause before a watch that ended on an error is opened again. */
const WATCH_RETRY_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True for an entry that passes the filter (OAM main's `catalog()` semantics). */
export function matchesFilter(entry: CatalogEntry, filter: CatalogFilter = {}): boolean {
  if (filter.channel !== undefined && entry.name !== filter.channel && !entry.name.startsWith(`${filter.channel}.`)) {
    return false;
  }
  if (filter.tags !== undefined && !filter.tags.every((tag) => entry.tags.includes(tag))) return false;
  if (filter.streaming !== undefined && entry.streaming !== filter.streaming) return false;
  if (filter.invocable !== undefined && entry.invocable !== filter.invocable) return false;
  return true;
}

export class Catalog {
  #bucket: KvBucket;
  readonly #reopen: (() => Promise<KvBucket>) | null;
  readonly #onWarning: (message: string) => void;
  #entries: StoredCatalogEntry[] = [];
  /** The first entry of each name, for `capabilities` (every call's pre-flight). */
  #byName = new Map<string, CatalogEntry>();
  /** Revision of the value the cache shows; older deliveries (the watch racing the first read) are ignored. */
  #revision = 0;
  /** Problems already reported, so an element left in place is not reported on every change. */
  #reported = new Set<string>();
  #watch: KvWatch | null = null;
  #stopped = true;

  /** `reopen` opens the bucket again after a broker restart (which may have lost it); without it the handle is kept. */
  constructor(bucket: KvBucket, options: CatalogOptions & { reopen?: () => Promise<KvBucket> }) {
    this.#bucket = bucket;
    this.#onWarning = options.onWarning;
    this.#reopen = options.reopen ?? null;
  }

  /** Opens (or creates, with OAM's history of 1) the `mesh-catalog` bucket. */
  static async open(bus: Bus, options: CatalogOptions): Promise<Catalog> {
    const reopen = () => bus.kv(BUCKET.catalog, { history: 1 });
    return new Catalog(await reopen(), { ...options, reopen });
  }

  /** Loads the cache and starts the watch that keeps it live. Resolves once the cache holds the current catalog. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#openWatch();
    this.#apply(await this.#bucket.get(CATALOG_KEY));
  }

  /**
   * Starts over after the broker came back: its store may have been lost (bucket and all), so revisions may start
   * again from 1. Opens the bucket and the watch again and reloads the cache.
   */
  async restart(): Promise<void> {
    this.#closeWatch();
    if (this.#reopen !== null) this.#bucket = await this.#reopen();
    this.#revision = 0;
    await this.start();
  }

  /** Ends the watch; the cache keeps its last contents. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#closeWatch();
  }

  /** The entries passing `filter`, from the cache (no network). */
  list(filter?: CatalogFilter): CatalogEntry[] {
    return this.#entries.filter(({ entry }) => matchesFilter(entry, filter)).map(({ entry }) => copyEntry(entry));
  }

  /** The cached entry of `name` (the caller's pre-flight), or undefined when the catalog does not list it. */
  lookup(name: string): CatalogEntry | undefined {
    const found = this.#entries.find(({ entry }) => entry.name === name);
    return found === undefined ? undefined : copyEntry(found.entry);
  }

  /**
   * The invocable and streaming flags of `name` from the cache, or undefined when the catalog does not list it: what
   * the caller's pre-flight reads on every call, so a map read and no copy (`lookup` copies the whole entry).
   */
  capabilities(name: string): CatalogCapabilities | undefined {
    return this.#byName.get(name);
  }

  /**
   * Adds or replaces our entry by compare-and-set. The entry is checked first (exactly the six fields, right types):
   * `invalid_definition` when it is wrong, `kv_conflict` when all tries lost to other writers.
   */
  async register(entry: CatalogEntry): Promise<void> {
    const checked = catalogEntry(entry);
    await this.#compareAndSet(checked.name, (current) => catalogWith(current, checked.name, checked));
  }

  /** Removes `name` by compare-and-set; the catalog goes back to `[]`, never deleted. False when it was not listed. */
  async deregister(name: string): Promise<boolean> {
    let listed = false;
    await this.#compareAndSet(name, (current) => {
      listed = current.some(({ entry }) => entry.name === name);
      return listed ? catalogWith(current, name) : null;
    });
    return listed;
  }

  /** Read, change, write at the revision read; `change` returning null means nothing to write. */
  async #compareAndSet(
    name: string,
    change: (current: StoredCatalogEntry[]) => Array<Record<string, unknown>> | null,
  ): Promise<void> {
    for (let attempt = 1; attempt <= CATALOG_CAS_TRIES; attempt++) {
      const current = await this.#bucket.get(CATALOG_KEY);
      const parsed = current === null ? { entries: [], problems: [] } : parseCatalog(current.value);
      this.#report(parsed.problems);
      const next = change(parsed.entries);
      if (next === null) return;
      const value = encodeCatalog(next);
      try {
        const revision =
          current === null
            ? await this.#bucket.create(CATALOG_KEY, value)
            : await this.#bucket.update(CATALOG_KEY, value, current.revision);
        this.#applyValue(value, revision);
        return;
      } catch (err) {
        if (!isBusError(err, 'kv_conflict') && !isBusError(err, 'kv_key_exists')) throw err;
        if (attempt < CATALOG_CAS_TRIES) await sleep(CATALOG_CAS_PAUSE_MS);
      }
    }
    throw new MeshError(
      'kv_conflict',
      `The catalog changed under each of ${CATALOG_CAS_TRIES} compare-and-set tries to update "${name}" (other processes were registering at the same moment); try again.`,
      { agent: name },
    );
  }

  async #openWatch(): Promise<void> {
    const watch = await this.#bucket.watch({ key: CATALOG_KEY, initialValues: true });
    this.#watch = watch;
    void this.#follow(watch);
  }

  /** Applies every change the watch delivers; a watch that fails is reported and opened again. */
  async #follow(watch: KvWatch): Promise<void> {
    try {
      for await (const entry of watch) this.#apply(entry);
      if (this.#stopped || this.#watch !== watch) return;
      this.#onWarning('The catalog watch ended unexpectedly; opening it again.');
    } catch (err) {
      if (this.#stopped || this.#watch !== watch) return;
      this.#onWarning(`The catalog watch failed (${(err as Error).message}); opening it again.`);
    }
    await sleep(WATCH_RETRY_MS);
    if (this.#stopped || this.#watch !== watch) return;
    try {
      await this.restart();
    } catch (err) {
      this.#onWarning(`The catalog watch could not be opened again (${(err as Error).message}).`);
    }
  }

  #closeWatch(): void {
    const watch = this.#watch;
    this.#watch = null;
    watch?.stop();
  }

  #apply(entry: KvEntry | null): void {
    if (entry === null) {
      if (this.#revision === 0) this.#setEntries([]);
      return;
    }
    if (entry.key !== CATALOG_KEY) return;
    this.#applyValue(entry.operation === 'PUT' ? entry.value : new Uint8Array(0), entry.revision);
  }

  #applyValue(value: Uint8Array, revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    const parsed = parseCatalog(value);
    this.#report(parsed.problems);
    this.#setEntries(parsed.entries);
  }

  #setEntries(entries: StoredCatalogEntry[]): void {
    this.#entries = entries;
    this.#byName = new Map();
    for (const { entry } of entries) if (!this.#byName.has(entry.name)) this.#byName.set(entry.name, entry);
  }

  #report(problems: readonly string[]): void {
    const now = new Set(problems);
    for (const problem of now) {
      if (!this.#reported.has(problem)) {
        this.#onWarning(`The catalog holds ${problem}; it is skipped (an OpenAgentMesh reader would stop on it).`);
      }
    }
    this.#reported = now;
  }
}

const copyEntry = (entry: CatalogEntry): CatalogEntry => ({ ...entry, tags: [...entry.tags] });
