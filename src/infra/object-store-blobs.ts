/**
 * Blobs of a mesh on NATS: the `automesh-blobs` object store (standard NATS layout, chunked), shared by every process
 * on the mesh, so a blob one node puts is read by any other.
 */
import type { Bus, ObjectBucket } from '../transport/bus.js';
import {
  BLOB_BUCKET,
  type BlobInfo,
  type BlobStore,
  blobBytes,
  blobText,
  byName,
  checkBlobName,
  checkBlobPrefix,
} from './blob-store.js';

export class ObjectStoreBlobs implements BlobStore {
  readonly kind = 'object-store';
  readonly location: string;
  readonly #store: ObjectBucket;

  constructor(store: ObjectBucket, busLocation: string) {
    this.#store = store;
    this.location = `${store.name} on ${busLocation}`;
  }

  /** Opens (or creates) the `automesh-blobs` object store on `bus`. */
  static async open(bus: Bus): Promise<ObjectStoreBlobs> {
    return new ObjectStoreBlobs(await bus.objectStore(BLOB_BUCKET), bus.location);
  }

  async put(name: string, data: Uint8Array | string): Promise<BlobInfo> {
    return this.#store.put(checkBlobName(name), blobBytes(name, data));
  }

  async get(name: string): Promise<Uint8Array | null> {
    return this.#store.get(checkBlobName(name));
  }

  async getText(name: string): Promise<string | null> {
    return blobText(name, await this.get(name));
  }

  async delete(name: string): Promise<boolean> {
    return this.#store.delete(checkBlobName(name));
  }

  async list(prefix?: string): Promise<BlobInfo[]> {
    const start = checkBlobPrefix(prefix);
    const objects = await this.#store.list();
    return objects.filter((info) => info.name.startsWith(start)).sort(byName);
  }
}
