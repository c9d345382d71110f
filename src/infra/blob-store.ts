/**
 * The blob store contract: what `this.blobs` (an AutoAgent), `ctx.blobs` (a function agent) and `mesh.blobs` give,
 * JarvisCore's `_blob_storage`. Two backends implement it and one suite (`test/infra/blob-suite.ts`) checks both:
 * a local directory, `<LOG_DIRECTORY>/blobs`, for a mesh in one process (`directory-blobs.ts`), and the `automesh-blobs`
 * object store for a mesh on NATS, shared by every process (`object-store-blobs.ts`).
 *
 * Names are the same on both, so code moves from one process to many unchanged: one or more `/`-separated segments of
 * letters, digits, `_`, `-` and `.`, each starting with a letter, digit or `_` (so no `..`, no hidden file, no
 * absolute path can be named). A name cannot be both a blob and a folder of blobs (`a` and `a/b`): the directory
 * refuses the second, so the object store must not be relied on to keep both either.
 */
import { MeshError } from '../transport/oam/mesh-error.js';

/** The object store that holds the blobs of a mesh on NATS. */
export const BLOB_BUCKET = 'automesh-blobs';
/** Longest blob name, in characters. */
export const MAX_BLOB_NAME = 512;

export interface BlobInfo {
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  readonly modified: Date;
}

export interface BlobStore {
  /** `directory` (one process) or `object-store` (NATS). */
  readonly kind: 'directory' | 'object-store';
  /** Where the blobs are, for messages: the directory's path, or `automesh-blobs on nats://…`. */
  readonly location: string;
  /** Stores `data` under `name` (a string as its UTF-8 bytes), replacing what was there. */
  put(name: string, data: Uint8Array | string): Promise<BlobInfo>;
  /** The bytes under `name`, or null when there are none. */
  get(name: string): Promise<Uint8Array | null>;
  /** The blob as UTF-8 text, or null when there is none; `invalid_input` when its bytes are not UTF-8. */
  getText(name: string): Promise<string | null>;
  /** Removes `name`; false when there was nothing to remove. */
  delete(name: string): Promise<boolean>;
  /** Every blob (whose name starts with `prefix`, when given), sorted by name. */
  list(prefix?: string): Promise<BlobInfo[]>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const RULE =
  'use "/"-separated segments of letters, digits, "_", "-" and ".", each starting with a letter, digit or "_" '
  + `(e.g. "reports/2026-12-01.md"), at most ${MAX_BLOB_NAME} characters`;

/** Whether `name` is a blob name (see the module comment). */
export function isBlobName(name: unknown): name is string {
  return (
    typeof name === 'string'
    && name.length > 0
    && name.length <= MAX_BLOB_NAME
    && name.split('/').every((segment) => SEGMENT.test(segment))
  );
}

/** The name, or `invalid_input` saying what a blob name is. */
export function checkBlobName(name: unknown): string {
  if (!isBlobName(name)) throw new MeshError('invalid_input', `${describe(name)} is not a blob name: ${RULE}.`);
  return name;
}

/** A `list` prefix: any start of a valid name (`""`, `reports/`, `reports/2026`). */
export function checkBlobPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return '';
  if (typeof prefix === 'string' && prefix.endsWith('/')) return `${checkBlobName(prefix.slice(0, -1))}/`;
  return checkBlobName(prefix);
}

/** What `put` stores for `data`; anything but bytes or a string is refused. */
export function blobBytes(name: string, data: unknown): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new MeshError(
    'invalid_input',
    `blobs.put("${name}") takes a Uint8Array or a string, not ${data === null ? 'null' : typeof data}; `
      + 'store JSON as JSON.stringify(value).',
  );
}

/** The text of a blob's bytes, or `invalid_input` when they are not UTF-8. */
export function blobText(name: string, bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MeshError(
      'invalid_input',
      `Blob "${name}" holds bytes that are not UTF-8 text; read it with blobs.get().`,
    );
  }
}

/** Sorted by name, as `list` returns them. */
export function byName(a: BlobInfo, b: BlobInfo): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function describe(name: unknown): string {
  if (typeof name !== 'string') return `A ${name === null ? 'null' : typeof name}`;
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}
