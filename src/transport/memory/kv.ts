/**
 * Key-value buckets of the in-process broker, with JetStream KV's semantics: one sequence per bucket (a write's
 * revision), delete markers, compare-and-set by revision, watches that start with the current values, and entries
 * that expire `ttlMs` after they were written (removed without a marker, as the server's `max_age` does).
 */

import type { KvBucket, KvBucketOptions, KvEntry, KvWatch, KvWatchOptions } from '../bus.js';
import { BusError } from '../bus-errors.js';
import { assertKey, assertKeyPattern } from '../names.js';
import { AsyncQueue } from './async-queue.js';
import { subjectMatches } from './match.js';

export interface KvBucketState {
  readonly name: string;
  readonly ttlMs: number | undefined;
  /** The bucket's stream sequence: the revision of its latest write. */
  sequence: number;
  /** The latest entry of each key, delete markers included (what `update` compares against). */
  readonly latest: Map<string, KvEntry>;
  readonly watchers: Set<(entry: KvEntry) => void>;
}

export function newKvBucketState(name: string, options: KvBucketOptions): KvBucketState {
  return { name, ttlMs: options.ttlMs, sequence: 0, latest: new Map(), watchers: new Set() };
}

/** A bucket as one connection sees it: every call first checks that the connection is open. */
export class InProcessKvBucket implements KvBucket {
  constructor(
    private readonly state: KvBucketState,
    private readonly ensureOpen: () => void,
  ) {}

  get name(): string {
    return this.state.name;
  }

  async get(key: string): Promise<KvEntry | null> {
    this.ready(key);
    const entry = this.state.latest.get(key);
    return entry && entry.operation === 'PUT' ? copyEntry(entry) : null;
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.ready(key);
    return this.write(key, value, 'PUT');
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    this.ready(key);
    const current = this.state.latest.get(key);
    if (current?.operation === 'PUT') {
      throw new BusError(
        'kv_key_exists',
        `Key ${key} already has a value in bucket ${this.name} (revision ${current.revision}); read it and use update() to change it.`,
      );
    }
    return this.write(key, value, 'PUT');
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    this.ready(key);
    const current = this.state.latest.get(key)?.revision ?? 0;
    if (current !== revision) {
      throw new BusError(
        'kv_conflict',
        `Key ${key} in bucket ${this.name} is at revision ${current}, not ${revision}: someone else wrote it; read it again and retry.`,
      );
    }
    return this.write(key, value, 'PUT');
  }

  async delete(key: string): Promise<void> {
    this.ready(key);
    this.write(key, new Uint8Array(0), 'DEL');
  }

  async keys(prefix = ''): Promise<string[]> {
    this.ensureOpen();
    this.expire();
    return [...this.state.latest.values()]
      .filter((entry) => entry.operation === 'PUT' && entry.key.startsWith(prefix))
      .map((entry) => entry.key);
  }

  async watch(options: KvWatchOptions = {}): Promise<KvWatch> {
    const pattern = options.key ?? '>';
    this.ensureOpen();
    assertKeyPattern(pattern);
    this.expire();
    const queue = new AsyncQueue<KvEntry>();
    if (options.initialValues ?? true) {
      const current = [...this.state.latest.values()]
        .filter((entry) => entry.operation === 'PUT' && subjectMatches(pattern, entry.key))
        .sort((a, b) => a.revision - b.revision);
      for (const entry of current) queue.push(copyEntry(entry));
    }
    const watcher = (entry: KvEntry): void => {
      if (subjectMatches(pattern, entry.key)) queue.push(copyEntry(entry));
    };
    this.state.watchers.add(watcher);
    return Object.assign(queue, {
      stop: () => {
        this.state.watchers.delete(watcher);
        queue.end();
      },
    });
  }

  private ready(key: string): void {
    this.ensureOpen();
    assertKey(key);
    this.expire();
  }

  private write(key: string, value: Uint8Array, operation: KvEntry['operation']): number {
    const entry: KvEntry = {
      bucket: this.name,
      key,
      value: new Uint8Array(value),
      revision: ++this.state.sequence,
      operation,
      created: new Date(),
    };
    this.state.latest.set(key, entry);
    for (const watcher of this.state.watchers) watcher(entry);
    return entry.revision;
  }

  /** Drops entries older than the bucket's TTL, as the server does with `max_age`. */
  private expire(): void {
    const { ttlMs } = this.state;
    if (ttlMs === undefined) return;
    const oldest = Date.now() - ttlMs;
    for (const [key, entry] of this.state.latest) {
      if (entry.created.getTime() <= oldest) this.state.latest.delete(key);
    }
  }
}

/** Callers get their own bytes, so changing them changes nothing stored. */
function copyEntry(entry: KvEntry): KvEntry {
  return { ...entry, value: new Uint8Array(entry.value), created: new Date(entry.created) };
}
