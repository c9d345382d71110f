/**
 * `mesh.workspace`: files shared across the mesh in the `mesh-artifacts` object store, in the standard NATS
 * object-store layout OpenAgentMesh's `mesh.workspace` uses (`oam-wire.md` §8), so Python peers read what we put.
 * Strings are stored as their UTF-8 bytes.
 */
import type { Bus, ObjectBucket, ObjectInfo } from '../bus.js';
import { MeshError } from './mesh-error.js';
import { BUCKET } from './wire.js';

const encoder = new TextEncoder();

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new MeshError('invalid_input', `${JSON.stringify(name)} is not a workspace name: give a non-empty string.`);
  }
  return name;
}

export class Workspace {
  readonly #store: ObjectBucket;

  constructor(store: ObjectBucket) {
    this.#store = store;
  }

  /** Opens (or creates) the `mesh-artifacts` object store. */
  static async open(bus: Bus): Promise<Workspace> {
    return new Workspace(await bus.objectStore(BUCKET.artifacts));
  }

  /** Stores `data` under `name`, replacing what was there. */
  async put(name: string, data: Uint8Array | string): Promise<ObjectInfo> {
    return this.#store.put(checkName(name), typeof data === 'string' ? encoder.encode(data) : data);
  }

  /** The bytes under `name`, or null when there are none. */
  async get(name: string): Promise<Uint8Array | null> {
    return this.#store.get(checkName(name));
  }

  /** Removes `name`; false when there was nothing to remove. */
  async delete(name: string): Promise<boolean> {
    return this.#store.delete(checkName(name));
  }

  /** Every stored object, by name. */
  async list(): Promise<ObjectInfo[]> {
    const objects = await this.#store.list();
    return objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
