/** Object stores through `@nats-io/obj`: the standard NATS layout (`OBJ_{bucket}`, 128 KiB chunks), as OAM uses. */
import type { ObjectInfo as NatsObjectInfo, ObjectStore } from '@nats-io/obj';
import type { ObjectBucket, ObjectInfo } from '../bus.js';
import { assertObjectName } from '../names.js';
import { plainBytes } from './bytes.js';
import { type ErrorContext, mapFailure } from './errors.js';

export class NatsObjectBucket implements ObjectBucket {
  constructor(
    readonly name: string,
    private readonly store: ObjectStore,
    private readonly context: ErrorContext,
    private readonly ensureOpen: () => void,
  ) {}

  put(name: string, data: Uint8Array): Promise<ObjectInfo> {
    return this.run(name, 'put', async () => infoOf(await this.store.putBlob({ name }, data)));
  }

  get(name: string): Promise<Uint8Array | null> {
    return this.run(name, 'get', async () => {
      const data = await this.store.getBlob(name);
      return data && plainBytes(data);
    });
  }

  delete(name: string): Promise<boolean> {
    return this.run(name, 'delete', async () => {
      const info = await this.store.info(name);
      if (info === null || info.deleted) return false;
      await this.store.delete(name);
      return true;
    });
  }

  async list(): Promise<ObjectInfo[]> {
    this.ensureOpen();
    return mapFailure(`Listing object store ${this.name}`, this.context, async () => {
      const infos = await this.store.list();
      return infos
        .filter((info) => !info.deleted)
        .map(infoOf)
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  private async run<T>(name: string, what: string, operation: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    assertObjectName(name);
    return mapFailure(`Object ${what} of ${name} in store ${this.name}`, this.context, operation);
  }
}

function infoOf(info: NatsObjectInfo): ObjectInfo {
  return { name: info.name, size: info.size, modified: new Date(info.mtime) };
}
