/** Object stores of the in-process broker: named blobs, as `@nats-io/obj` keeps them in a NATS object store. */
import type { ObjectBucket, ObjectInfo } from '../bus.js';
import { assertObjectName } from '../names.js';

export interface StoredObject {
  readonly data: Uint8Array;
  readonly modified: Date;
}

/** An object store as one connection sees it: every call first checks that the connection is open. */
export class InProcessObjectBucket implements ObjectBucket {
  constructor(
    readonly name: string,
    private readonly objects: Map<string, StoredObject>,
    private readonly ensureOpen: () => void,
  ) {}

  async put(name: string, data: Uint8Array): Promise<ObjectInfo> {
    this.ready(name);
    const stored = { data: new Uint8Array(data), modified: new Date() };
    this.objects.set(name, stored);
    return infoOf(name, stored);
  }

  async get(name: string): Promise<Uint8Array | null> {
    this.ready(name);
    const stored = this.objects.get(name);
    return stored ? new Uint8Array(stored.data) : null;
  }

  async delete(name: string): Promise<boolean> {
    this.ready(name);
    return this.objects.delete(name);
  }

  async list(): Promise<ObjectInfo[]> {
    this.ensureOpen();
    return [...this.objects.entries()]
      .map(([name, stored]) => infoOf(name, stored))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private ready(name: string): void {
    this.ensureOpen();
    assertObjectName(name);
  }
}

function infoOf(name: string, stored: StoredObject): ObjectInfo {
  return { name, size: stored.data.length, modified: new Date(stored.modified) };
}
