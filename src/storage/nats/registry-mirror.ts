/**
 * A live copy of the `automesh-registry` bucket in this process, so `findByTaskKey` (on the path of every task)
 * answers from memory. Loaded at start (every key read once), kept live by a KV watch of every change, and given
 * this process's own writes at once (read-your-writes). Each key keeps the revision it was last seen at, so a late
 * or repeated delivery never replaces a newer value. After a broker restart (whose store may have been lost, so
 * revisions start again) it is emptied and loaded again.
 *
 * Another process's write reaches the copy within the watch's delay; the store reads the bucket itself when the copy
 * has nothing usable for a task key (see `registry.ts`), so lag never costs a just-verified function.
 */
import type { DamagedRecord, RegistryEntry, RegistryScan } from '../../registry/types.js';
import type { KvEntry, KvWatch } from '../../transport/bus.js';
import { compareEntriesNewest, decodeEntry, reasonOf } from '../records.js';
import { kvCall } from './failures.js';
import { entryKey, parseRegistryKey } from './keys.js';
import { assembleParts, type KvPlace, manifestOf, partKeys, readAll } from './texts.js';

/** Pause before a watch that ended on its own is opened again. */
const WATCH_RETRY_MS = 500;

const decoder = new TextDecoder();

interface Value {
  revision: number;
  value: Uint8Array;
}

/** An entry as decoded at one revision: the entry, or why it cannot be read, or unknown yet (parts not all here). */
interface Decoded {
  revision: number;
  entry?: RegistryEntry;
  reason?: string;
}

export interface MirrorOptions {
  /** Told when the watch failed and is opened again (the mesh shows it as a warning). */
  onWarning?: (message: string) => void;
}

export class RegistryMirror {
  readonly #place: KvPlace;
  readonly #onWarning: (message: string) => void;
  /** Every key's value (entries and their parts), by key. */
  #values = new Map<string, Value>();
  /** The last revision seen of each key, deletes included. */
  #revisions = new Map<string, number>();
  /** Entry ids by task key, from the index keys. */
  #index = new Map<string, Set<string>>();
  #decoded = new Map<string, Decoded>();
  #watch: KvWatch | null = null;
  #stopped = true;
  #generation = 0;
  /** The restart under way: restarts run one after another, never two watches at once. */
  #restarting: Promise<void> = Promise.resolve();

  constructor(place: KvPlace, options: MirrorOptions = {}) {
    this.#place = place;
    this.#onWarning = options.onWarning ?? (() => undefined);
  }

  /** Starts the watch, then reads every key; resolves once the copy holds the whole bucket. */
  async start(): Promise<void> {
    this.#stopped = false;
    const generation = ++this.#generation;
    const watch = await kvCall('watch the registry', this.#place.where(), () =>
      this.#place.bucket().watch({ key: '>', initialValues: false }),
    );
    this.#watch = watch;
    void this.#follow(watch, generation);
    const keys = await kvCall('list the registry', this.#place.where(), () => this.#place.bucket().keys());
    await readAll(keys, async (key) => {
      const entry = await kvCall(`read ${key}`, this.#place.where(), () => this.#place.bucket().get(key));
      if (entry && generation === this.#generation) this.apply(entry);
    });
  }

  /** Empties the copy and loads it again (after a broker restart). */
  restart(): Promise<void> {
    const next = this.#restarting.catch(() => undefined).then(() => this.#reload());
    this.#restarting = next;
    return next;
  }

  async #reload(): Promise<void> {
    if (this.#stopped) return;
    this.#closeWatch();
    this.#values = new Map();
    this.#revisions = new Map();
    this.#index = new Map();
    this.#decoded = new Map();
    await this.start();
  }

  /** Ends the watch. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#closeWatch();
  }

  /** Takes in one change of the bucket, unless a newer one of the same key is already in. */
  apply(entry: Pick<KvEntry, 'key' | 'revision' | 'operation' | 'value'>): void {
    const { key, revision } = entry;
    if ((this.#revisions.get(key) ?? 0) >= revision) return;
    this.#revisions.set(key, revision);
    const parsed = parseRegistryKey(key);
    const present = entry.operation === 'PUT';
    if (parsed.kind === 'index') {
      let ids = this.#index.get(parsed.taskKey);
      if (present) {
        if (!ids) {
          ids = new Set();
          this.#index.set(parsed.taskKey, ids);
        }
        ids.add(parsed.id);
      } else if (ids) {
        ids.delete(parsed.id);
        if (ids.size === 0) this.#index.delete(parsed.taskKey);
      }
      return;
    }
    if (present) this.#values.set(key, { revision, value: entry.value });
    else this.#values.delete(key);
    if (parsed.kind === 'entry') this.#decoded.delete(parsed.id);
  }

  /** Forgets a key this process just deleted (the delete's revision comes later through the watch). */
  forget(key: string): void {
    const revision = this.#revisions.get(key) ?? 0;
    this.apply({ key, revision: revision + 0.5, operation: 'DEL', value: new Uint8Array(0) });
  }

  /** The entry ids filed under `taskKey`. */
  idsOf(taskKey: string): string[] {
    return [...(this.#index.get(taskKey) ?? [])];
  }

  /** The ids of every entry in the copy. */
  entryIds(): string[] {
    return [...this.#values.keys()].flatMap((key) => {
      const parsed = parseRegistryKey(key);
      return parsed.kind === 'entry' ? [parsed.id] : [];
    });
  }

  /** The task keys under which `id` is filed. */
  taskKeysOf(id: string): string[] {
    return [...this.#index].filter(([, ids]) => ids.has(id)).map(([taskKey]) => taskKey);
  }

  /** The entries filed under `taskKey`, from memory; an entry whose parts are not all here yet is left out. */
  find(taskKey: string): RegistryScan {
    const entries: RegistryEntry[] = [];
    const damaged: DamagedRecord[] = [];
    for (const id of this.#index.get(taskKey) ?? []) {
      const decoded = this.#decode(id);
      if (decoded?.entry && decoded.entry.taskKey === taskKey) entries.push(structuredClone(decoded.entry));
      else if (decoded?.reason !== undefined) {
        damaged.push({ kind: 'entry', id, path: this.#place.where(entryKey(id)), reason: decoded.reason });
      }
    }
    return { entries: entries.sort(compareEntriesNewest), damaged: damaged.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }

  #decode(id: string): Decoded | null {
    const key = entryKey(id);
    const stored = this.#values.get(key);
    if (!stored) return null;
    const cached = this.#decoded.get(id);
    if (cached?.revision === stored.revision) return cached;
    let text = decoder.decode(stored.value);
    const manifest = manifestOf(stored.value);
    if (manifest) {
      const assembled = assembleParts(
        manifest,
        partKeys(key, manifest).map((part) => this.#values.get(part)?.value ?? null),
      );
      if (assembled.text === undefined) return null;
      text = assembled.text;
    }
    let decoded: Decoded;
    try {
      decoded = { revision: stored.revision, entry: decodeEntry(text, id, this.#place.where(key)) };
    } catch (error) {
      decoded = { revision: stored.revision, reason: reasonOf(error) };
    }
    this.#decoded.set(id, decoded);
    return decoded;
  }

  /** Applies every change the watch delivers; a watch that ends while the mirror runs is opened again. */
  async #follow(watch: KvWatch, generation: number): Promise<void> {
    let problem = 'it ended';
    try {
      for await (const entry of watch) this.apply(entry);
    } catch (error) {
      problem = `it failed: ${reasonOf(error)}`;
    }
    // Wait before saying anything: a watch that ended because its bus is closing is stopped meanwhile.
    await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
    if (this.#stopped || generation !== this.#generation) return;
    this.#onWarning(`The watch of the code registry on ${this.#place.where()} stopped (${problem}); opening it again.`);
    try {
      await this.restart();
    } catch (error) {
      this.#onWarning(`The watch of the code registry could not be opened again (${reasonOf(error)}).`);
    }
  }

  #closeWatch(): void {
    const watch = this.#watch;
    this.#watch = null;
    watch?.stop();
  }
}
