/**
 * The registry: one contract document per agent in the `mesh-registry` bucket, under the agent's dotted name
 * (`oam-wire.md` §7). `contract(name)` reads what any OAM version or automesh wrote; `delete` leaves the
 * `KV-Operation: DEL` marker OAM's `registry.delete` leaves.
 */
import type { Bus, KvBucket } from '../bus.js';
import type { AgentContract, RegistryDocument } from './contract-types.js';
import { MeshError } from './mesh-error.js';
import { pythonJsonBytes } from './python-json.js';
import { canonicalJson, contractOf, schemasOf } from './registry-document.js';
import { BUCKET, decodeBody } from './wire.js';

export class Registry {
  #bucket: KvBucket;
  readonly #reopen: (() => Promise<KvBucket>) | null;

  /** `reopen` opens the bucket again after a broker restart (which may have lost it). */
  constructor(bucket: KvBucket, reopen?: () => Promise<KvBucket>) {
    this.#bucket = bucket;
    this.#reopen = reopen ?? null;
  }

  /** Opens (or creates, with OAM's history of 1) the `mesh-registry` bucket. */
  static async open(bus: Bus): Promise<Registry> {
    const reopen = () => bus.kv(BUCKET.registry, { history: 1 });
    return new Registry(await reopen(), reopen);
  }

  /** Opens the bucket again (creating it when a broker restart lost it). */
  async reopen(): Promise<void> {
    if (this.#reopen !== null) this.#bucket = await this.#reopen();
  }

  /** Writes `document` under its name, as Python's `json.dumps` writes it. Resolves with the revision. */
  put(document: RegistryDocument): Promise<number> {
    return this.#bucket.put(document.name, pythonJsonBytes(document));
  }

  /** Leaves a delete marker for `name`. */
  delete(name: string): Promise<void> {
    return this.#bucket.delete(name);
  }

  /** The stored document of `name` as JSON, or null when there is none. Throws when it is not JSON. */
  async document(name: string): Promise<unknown> {
    const entry = await this.#bucket.get(name);
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return null;
    try {
      return decodeBody(entry.value, `mesh-registry/${name}`);
    } catch (err) {
      throw new MeshError(
        'invalid_definition',
        `The registry document of "${name}" cannot be read: ${(err as Error).message}`,
        {
          agent: name,
          cause: err,
        },
      );
    }
  }

  /** `mesh.contract(name)`: `not_found` when the registry has no document for it. */
  async contract(name: string): Promise<AgentContract> {
    const document = await this.document(name);
    if (document === null) {
      throw new MeshError(
        'not_found',
        `No agent "${name}" is registered on the mesh (mesh-registry has no contract for it).`,
        {
          agent: name,
        },
      );
    }
    return contractOf(document, name);
  }

  /**
   * Null when `document` may be registered over what is stored: nothing stored, or the same input, output and chunk
   * schemas (a replica of the same agent). Otherwise the `invalid_definition` error to throw, showing both schemas;
   * the caller throws it only when the stored agent is still served by someone else.
   */
  async schemaConflict(document: RegistryDocument): Promise<MeshError | null> {
    const stored = await this.document(document.name);
    if (stored === null) return null;
    let theirs: ReturnType<typeof schemasOf>;
    try {
      theirs = schemasOf(contractOf(stored, document.name));
    } catch {
      return null; // an unreadable document describes no agent worth protecting; ours replaces it
    }
    const ours = schemasOf(document);
    if (canonicalJson(ours) === canonicalJson(theirs)) return null;
    return new MeshError(
      'invalid_definition',
      `Agent "${document.name}" is already served on the mesh with other schemas, so this definition would answer its callers with another contract. Give one of them another name, or stop the other process first.\n  registered: ${JSON.stringify(theirs)}\n  this one:   ${JSON.stringify(ours)}`,
      { agent: document.name, details: { registered: theirs, definition: ours } },
    );
  }
}
