/**
 * Records as text in a KV bucket, whatever their size. A message may carry at most the server's `max_payload`
 * (1 MiB by default) and a step's envelope alone may be about that large, so a record larger than one value is
 * written in parts: the parts first (`<key>.part.<version>.<n>`), then the record's own key, which holds a manifest
 * (`#automesh-parts {"version", "count", "bytes", "sha256"}`) in place of the text. The record's key is written last
 * and in one go, so it is the commit point: a reader sees the old version or the new one, never a mix (the hash
 * checks it), and a compare-and-set on the record's key works the same for both sizes.
 *
 * Parts of replaced versions are deleted after the new version is written; a reader that read the old manifest just
 * before finds them gone, reads the key again and gets the new version. Parts left behind by a crash between the
 * two writes, or by a large record replaced by a small one, are removed with the record (its removal deletes every
 * key under it) or by the record's next large write.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KvBucket } from '../../transport/bus.js';
import { kvCall } from './failures.js';

const PARTS_MARK = '#automesh-parts ';
/** Room left in each message for its subject and JetStream's headers. */
const MESSAGE_HEADROOM = 64 * 1024;
/** Reads of a large record that found its parts replaced under them before it is reported as damaged. */
const READ_TRIES = 3;
/** Parallel reads of one record's parts or of one listing's keys. */
const PARALLEL_READS = 32;

export interface PartsManifest {
  version: string;
  count: number;
  bytes: number;
  sha256: string;
}

/** One value written to the bucket (the mirror applies our own writes at once: read-your-writes). */
export interface KvWrite {
  key: string;
  revision: number;
  value: Uint8Array;
}

/** What {@link KvTexts.write} wrote: every value (the record's key last), and the parts' manifest if in parts. */
export interface Written {
  writes: KvWrite[];
  manifest: PartsManifest | null;
}

/** A record as read: its text, or why it cannot be put together (a part is missing or does not match). */
export type TextRead =
  | { revision: number; manifest: PartsManifest | null; text: string; problem?: undefined }
  | { revision: number; manifest: PartsManifest; text?: undefined; problem: string };

/** How the record's own key is written: unconditionally, only if absent, or only at a revision (compare-and-set). */
export type WriteMode = { kind: 'put' } | { kind: 'create' } | { kind: 'update'; revision: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const partsPrefix = (key: string): string => `${key}.part.`;
const partKey = (key: string, version: string, n: number): string => `${partsPrefix(key)}${version}.${n}`;
export const partKeys = (key: string, manifest: PartsManifest): string[] =>
  Array.from({ length: manifest.count }, (_, n) => partKey(key, manifest.version, n));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The manifest a value holds, or null for a plain record (or a value that only looks like one: read as text). */
export function manifestOf(value: Uint8Array): PartsManifest | null {
  if (value.length > 512 || value.length < PARTS_MARK.length) return null;
  const text = decoder.decode(value);
  if (!text.startsWith(PARTS_MARK)) return null;
  try {
    const m = JSON.parse(text.slice(PARTS_MARK.length)) as Partial<PartsManifest>;
    const ok =
      typeof m.version === 'string'
      && /^[0-9a-f]{16}$/.test(m.version)
      && Number.isInteger(m.count)
      && (m.count as number) > 0
      && Number.isInteger(m.bytes)
      && typeof m.sha256 === 'string';
    return ok ? (m as PartsManifest) : null;
  } catch {
    return null; // not a manifest: the value is read as the record's text, whose decoding reports the damage
  }
}

/** The record's text from its parts, or what is wrong with them. */
export function assembleParts(
  manifest: PartsManifest,
  parts: Array<Uint8Array | null>,
): { text: string; problem?: undefined } | { text?: undefined; problem: string } {
  const missing = parts.indexOf(null);
  if (missing >= 0) return { problem: `part ${missing + 1} of ${manifest.count} is missing` };
  const bytes = new Uint8Array(manifest.bytes);
  let offset = 0;
  for (const part of parts as Uint8Array[]) {
    if (offset + part.length > bytes.length) return { problem: 'its parts are longer than its manifest says' };
    bytes.set(part, offset);
    offset += part.length;
  }
  if (offset !== manifest.bytes || sha256(bytes) !== manifest.sha256) {
    return { problem: 'its parts do not match the checksum of its manifest' };
  }
  return { text: decoder.decode(bytes) };
}

/** Runs `read` over `items`, at most {@link PARALLEL_READS} at a time, keeping their order. */
export async function readAll<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await read(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, items.length) }, worker));
  return out;
}

/** One bucket as the stores use it. */
export interface KvPlace {
  /** The current handle (opened again after a broker restart that may have lost the store). */
  bucket(): KvBucket;
  /** For messages: the bucket and the server, and the key when given (`automesh-registry on nats://… (key …)`). */
  where(key?: string): string;
  /** The largest message the server takes now. */
  maxPayload(): number;
}

/** The {@link KvPlace} of bucket `name` on the bus at `location`. */
export function kvPlace(name: string, location: string, bucket: () => KvBucket, maxPayload: () => number): KvPlace {
  return { bucket, maxPayload, where: (key) => `${name} on ${location}${key ? ` (key ${key})` : ''}` };
}

/** Reads and writes records of one bucket as text. */
export class KvTexts {
  private readonly location: string;

  constructor(private readonly place: KvPlace) {
    this.location = place.where();
  }

  private bucket(): KvBucket {
    return this.place.bucket();
  }

  /** The largest value written in one piece. */
  get maxValueBytes(): number {
    return Math.max(4096, this.place.maxPayload() - MESSAGE_HEADROOM);
  }

  /** The record at `key`, or null when there is none. */
  async read(key: string): Promise<TextRead | null> {
    for (let attempt = 1; ; attempt++) {
      const entry = await kvCall(`read ${key}`, this.location, () => this.bucket().get(key));
      if (entry === null) return null;
      const manifest = manifestOf(entry.value);
      if (manifest === null) return { revision: entry.revision, manifest, text: decoder.decode(entry.value) };
      const parts = await readAll(partKeys(key, manifest), async (part) => {
        const found = await kvCall(`read ${part}`, this.location, () => this.bucket().get(part));
        return found?.value ?? null;
      });
      const assembled = assembleParts(manifest, parts);
      if (assembled.text !== undefined) return { revision: entry.revision, manifest, text: assembled.text };
      // The record may have been replaced between reading its key and its parts: read it again, a few times.
      if (attempt >= READ_TRIES) return { revision: entry.revision, manifest, problem: assembled.problem };
    }
  }

  /**
   * Writes the record: its parts first when it is large, then its key as `mode` says (a refused create or update
   * throws the bus's `kv_key_exists` / `kv_conflict`, after the parts just written are deleted again).
   */
  async write(key: string, text: string, mode: WriteMode): Promise<Written> {
    const bytes = encoder.encode(text);
    const limit = this.maxValueBytes;
    const writes: KvWrite[] = [];
    let value = bytes;
    let manifest: PartsManifest | null = null;
    if (bytes.length > limit) {
      manifest = {
        version: randomBytes(8).toString('hex'),
        count: Math.ceil(bytes.length / limit),
        bytes: bytes.length,
        sha256: sha256(bytes),
      };
      const keys = partKeys(key, manifest);
      for (const [n, part] of keys.entries()) {
        const slice = bytes.subarray(n * limit, (n + 1) * limit);
        const revision = await kvCall(`write ${part}`, this.location, () => this.bucket().put(part, slice));
        writes.push({ key: part, revision, value: slice });
      }
      value = encoder.encode(`${PARTS_MARK}${JSON.stringify(manifest)}`);
    }
    let revision: number;
    try {
      revision = await kvCall(`write ${key}`, this.location, () => {
        const bucket = this.bucket();
        if (mode.kind === 'put') return bucket.put(key, value);
        if (mode.kind === 'create') return bucket.create(key, value);
        return bucket.update(key, value, mode.revision);
      });
    } catch (error) {
      if (manifest) await this.dropQuietly(partKeys(key, manifest));
      throw error;
    }
    writes.push({ key, revision, value });
    return { writes, manifest };
  }

  /** Deletes the parts of `key` that do not belong to version `keep` (all of them without it). */
  async dropParts(key: string, keep?: string): Promise<string[]> {
    const prefix = partsPrefix(key);
    const keys = await kvCall(`list the parts of ${key}`, this.location, () => this.bucket().keys(prefix));
    const stale = keys.filter((k) => keep === undefined || !k.startsWith(`${prefix}${keep}.`));
    await this.delete(stale);
    return stale;
  }

  /** Deletes `keys`. */
  async delete(keys: readonly string[]): Promise<void> {
    await readAll(keys, (k) => kvCall(`delete ${k}`, this.location, () => this.bucket().delete(k)));
  }

  /**
   * Deletes parts whose record write failed. The write's own error is what the caller must see; parts left behind
   * if this fails too are harmless (nothing points to them) and go with the record's next large write or removal.
   */
  private async dropQuietly(keys: readonly string[]): Promise<void> {
    try {
      await this.delete(keys);
    } catch {
      // see above: the original error is rethrown by the caller
    }
  }
}
