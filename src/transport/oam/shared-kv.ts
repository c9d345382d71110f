/**
 * `mesh.kv`: shared state in the `mesh-context` bucket, readable and writable by OpenAgentMesh's Python peers
 * (`oam-wire.md` §8).
 *
 * How values are stored: exactly the bytes a Python peer would store for the same value, with no type tag. A string
 * is stored as its UTF-8 bytes (Python writes `str` as-is), a `Uint8Array` as its bytes, and anything else (objects,
 * arrays, numbers, booleans, null) as compact JSON text. Since the bytes carry no type, reading says what it wants:
 * `get` gives the text, `getJson` parses it, `getBytes` gives the bytes. So `put('n', 5)` then `get('n')` is `"5"`,
 * and `getJson('n')` is `5`.
 */
import type { Bus, KvBucket, KvEntry } from '../bus.js';
import { isBusError } from '../bus-errors.js';
import { MeshError } from './mesh-error.js';
import { BUCKET } from './wire.js';

/** What `put`/`create`/`update` accept. */
export type SharedValue = string | Uint8Array | number | boolean | null | readonly unknown[] | object;

/** One change seen by `watch`. */
export interface SharedKvChange {
  readonly key: string;
  readonly revision: number;
  /** True for a delete (or purge); `bytes` is then empty. */
  readonly deleted: boolean;
  readonly bytes: Uint8Array;
  /** The value as UTF-8 text; throws `invalid_input` when the bytes are not UTF-8. */
  text(): string;
  /** The value parsed as JSON; throws `invalid_input` when it is not JSON. */
  json<T = unknown>(): T;
}

/** A live watch: iterate for changes; `stop()` (or leaving the loop) ends it. */
export interface SharedKvWatch extends AsyncIterable<SharedKvChange> {
  stop(): void;
}

/** Tries of `update`, as OAM's `max_retries`. */
export const KV_UPDATE_TRIES = 10;
/** Longest pause between two tries of `update`. */
const KV_UPDATE_MAX_PAUSE_MS = 10;

/** NATS KV keys: letters, digits, `-`, `_`, `=`, `/` and `.`, not starting or ending with a dot. */
const KEY = /^[-/_=.a-zA-Z0-9]+$/;
const KEY_PREFIX = /^[-/_=.a-zA-Z0-9]*$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The stored bytes of a value (see the module comment). */
export function encodeShared(value: SharedValue): Uint8Array {
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  const text = JSON.stringify(value);
  if (text === undefined) throw new MeshError('invalid_input', `A ${typeof value} cannot be stored in mesh.kv.`);
  return encoder.encode(text);
}

function textOf(key: string, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MeshError(
      'invalid_input',
      `mesh-context "${key}" holds bytes that are not UTF-8 text; read it with kv.getBytes("${key}").`,
    );
  }
}

function jsonOf<T>(key: string, bytes: Uint8Array): T {
  const text = textOf(key, bytes);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new MeshError(
      'invalid_input',
      `mesh-context "${key}" is not JSON (${(err as Error).message}); read it with kv.get("${key}").`,
    );
  }
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key) || key.startsWith('.') || key.endsWith('.')) {
    throw new MeshError(
      'invalid_input',
      `${JSON.stringify(key)} is not a mesh.kv key: use letters, digits, "-", "_", "=", "/" and ".", not starting or ending with a dot.`,
    );
  }
  return key;
}

const exists = (entry: KvEntry | null): entry is KvEntry => entry !== null && entry.operation === 'PUT';

export class SharedKv {
  readonly #bucket: KvBucket;

  constructor(bucket: KvBucket) {
    this.#bucket = bucket;
  }

  /** Opens (or creates, with OAM's history of 1) the `mesh-context` bucket. */
  static async open(bus: Bus): Promise<SharedKv> {
    return new SharedKv(await bus.kv(BUCKET.context, { history: 1 }));
  }

  /** The value as text, or null when the key is missing or deleted. */
  async get(key: string): Promise<string | null> {
    const entry = await this.#bucket.get(checkKey(key));
    return exists(entry) ? textOf(key, entry.value) : null;
  }

  /** The value parsed as JSON, or null when the key is missing or deleted. */
  async getJson<T = unknown>(key: string): Promise<T | null> {
    const entry = await this.#bucket.get(checkKey(key));
    return exists(entry) ? jsonOf<T>(key, entry.value) : null;
  }

  /** The stored bytes, or null when the key is missing or deleted. */
  async getBytes(key: string): Promise<Uint8Array | null> {
    const entry = await this.#bucket.get(checkKey(key));
    return exists(entry) ? entry.value : null;
  }

  /** Writes unconditionally; resolves with the revision (the stream sequence, as OAM returns). */
  async put(key: string, value: SharedValue): Promise<number> {
    return this.#bucket.put(checkKey(key), encodeShared(value));
  }

  /** Writes only when the key is missing or deleted; `kv_key_exists` otherwise. */
  async create(key: string, value: SharedValue): Promise<number> {
    try {
      return await this.#bucket.create(checkKey(key), encodeShared(value));
    } catch (err) {
      if (!isBusError(err, 'kv_key_exists')) throw err;
      throw new MeshError('kv_key_exists', `mesh-context "${key}" already has a value; use kv.put or kv.update.`, {
        cause: err,
      });
    }
  }

  /** Leaves a delete marker. */
  async delete(key: string): Promise<void> {
    return this.#bucket.delete(checkKey(key));
  }

  /**
   * Read-modify-write by compare-and-set: `fn` gets the current text (null when the key is missing) and returns the
   * new value; on a conflict it runs again on the fresh value after a short random pause, up to
   * {@link KV_UPDATE_TRIES} times (`kv_conflict` after that). When `fn` returns the value unchanged nothing is written. Resolves with the revision.
   */
  async update(
    key: string,
    fn: (current: string | null) => SharedValue | Promise<SharedValue>,
    tries = KV_UPDATE_TRIES,
  ): Promise<number> {
    checkKey(key);
    for (let attempt = 1; attempt <= tries; attempt++) {
      const entry = await this.#bucket.get(key);
      const current = exists(entry) ? entry : null;
      const next = encodeShared(await fn(current === null ? null : textOf(key, current.value)));
      if (current !== null && sameBytes(current.value, next)) return current.revision;
      try {
        return current === null
          ? await this.#bucket.create(key, next)
          : await this.#bucket.update(key, next, current.revision);
      } catch (err) {
        if (!isBusError(err, 'kv_conflict') && !isBusError(err, 'kv_key_exists')) throw err;
      }
      // A random pause, so writers that collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * KV_UPDATE_MAX_PAUSE_MS));
    }
    throw new MeshError(
      'kv_conflict',
      `mesh-context "${key}" changed under each of ${tries} compare-and-set tries of kv.update (other writers at the same moment); try again.`,
    );
  }

  /** Keys with a value, starting with `prefix` when given, sorted. */
  async list(prefix = ''): Promise<string[]> {
    if (typeof prefix !== 'string' || !KEY_PREFIX.test(prefix)) checkKey(prefix);
    const keys = await this.#bucket.keys(prefix === '' ? undefined : prefix);
    return keys.sort();
  }

  /** Changes of `key` (or a `*` / `>` pattern), starting with its current value when it has one. */
  async watch(key: string): Promise<SharedKvWatch> {
    if (typeof key !== 'string' || !/^[-/_=.a-zA-Z0-9*>]+$/.test(key)) checkKey(key);
    const watch = await this.#bucket.watch({ key, initialValues: true });
    async function* changes(): AsyncGenerator<SharedKvChange> {
      try {
        for await (const entry of watch) yield changeOf(entry);
      } finally {
        watch.stop();
      }
    }
    const iterable = changes();
    return {
      stop: () => watch.stop(),
      [Symbol.asyncIterator]: () => iterable,
    };
  }
}

function changeOf(entry: KvEntry): SharedKvChange {
  return {
    key: entry.key,
    revision: entry.revision,
    deleted: entry.operation !== 'PUT',
    bytes: entry.value,
    text: () => textOf(entry.key, entry.value),
    json: <T>() => jsonOf<T>(entry.key, entry.value),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
