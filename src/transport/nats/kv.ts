/**
 * JetStream key-value buckets through `@nats-io/kv`. A missing bucket is created with the stream config
 * OpenAgentMesh's Python clients (nats-py) give theirs (`oam-wire.md` §1: one value per key, file storage,
 * `discard: new`, `deny_delete`, rollup headers, no direct get, no TTL unless asked), so the bucket looks the same
 * whoever made it; an existing bucket is used as it is.
 */
import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { type KV, Kvm, KvWatchInclude } from '@nats-io/kv';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import type { KvBucket, KvBucketOptions, KvEntry, KvWatch, KvWatchOptions } from '../bus.js';
import { BusError } from '../bus-errors.js';
import { assertKey, assertKeyPattern } from '../names.js';
import { plainBytes } from './bytes.js';
import { type ErrorContext, isApiError, mapFailure } from './errors.js';
import { listKvKeys } from './kv-keys.js';

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const WRONG_LAST_SEQUENCE = 10071;
/** Literal key tokens, each followed by a dot: a prefix the server can filter as `prefix>`. */
const SERVER_FILTERABLE = /^(?:[-/=\w]+\.)+$/;

/** Opens bucket `name`, creating its stream first when there is none. */
export async function openKvBucket(
  nc: NatsConnection,
  jsm: JetStreamManager,
  name: string,
  options: KvBucketOptions,
  context: ErrorContext,
  ensureOpen: () => void,
): Promise<KvBucket> {
  const stream = `KV_${name}`;
  let allowDirect: boolean;
  try {
    allowDirect = (await jsm.streams.info(stream)).config.allow_direct ?? false;
  } catch (error) {
    if (!isApiError(error, STREAM_NOT_FOUND)) throw error;
    allowDirect = false;
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [`$KV.${name}.>`],
        retention: RetentionPolicy.Limits,
        max_msgs_per_subject: options.history ?? 1,
        max_msg_size: -1,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        deny_delete: true,
        allow_rollup_hdrs: true,
        allow_direct: false,
        num_replicas: 1,
        ...(options.ttlMs ? { max_age: nanos(options.ttlMs) } : {}),
      });
    } catch (addError) {
      // Someone else created it in between, maybe with another config: theirs is used as it is.
      if (!isApiError(addError, STREAM_NAME_IN_USE)) throw addError;
    }
  }
  const kv = await new Kvm(nc).open(name, { allow_direct: allowDirect });
  return new NatsKvBucket(name, kv, jsm, context, ensureOpen);
}

class NatsKvBucket implements KvBucket {
  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly context: ErrorContext,
    private readonly ensureOpen: () => void,
  ) {}

  get(key: string): Promise<KvEntry | null> {
    return this.run(key, 'get', async () => {
      const entry = await this.kv.get(key);
      return entry && entry.operation === 'PUT' ? toEntry(entry) : null;
    });
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.run(key, 'put', () => this.kv.put(key, value));
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.run(key, 'create', async () => {
      try {
        return await this.kv.create(key, value);
      } catch (error) {
        if (!isApiError(error, WRONG_LAST_SEQUENCE)) throw error;
        throw new BusError(
          'kv_key_exists',
          `Key ${key} already has a value in bucket ${this.name}; read it and use update() to change it.`,
          { cause: error },
        );
      }
    });
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.run(key, 'update', async () => {
      try {
        // put with an expected last sequence, so revision 0 ("no value yet") works as it does in-process.
        return await this.kv.put(key, value, { previousSeq: revision });
      } catch (error) {
        if (!isApiError(error, WRONG_LAST_SEQUENCE)) throw error;
        throw new BusError(
          'kv_conflict',
          `Key ${key} in bucket ${this.name} is no longer at revision ${revision}: someone else wrote it; read it again and retry.`,
          { cause: error },
        );
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.run(key, 'delete', () => this.kv.delete(key));
  }

  async keys(prefix = ''): Promise<string[]> {
    this.ensureOpen();
    return mapFailure(`Listing the keys of bucket ${this.name}`, this.context, async () => {
      // A prefix that ends a token is filtered by the server (`prefix>`), so listing one workflow's keys does not
      // send every key of the bucket; any other prefix is filtered here.
      const filter = SERVER_FILTERABLE.test(prefix) ? `${prefix}>` : '>';
      const all = await listKvKeys(this.jsm.jetstream(), this.jsm, this.name, filter);
      return all.filter((key) => key.startsWith(prefix));
    });
  }

  async watch(options: KvWatchOptions = {}): Promise<KvWatch> {
    const pattern = options.key ?? '>';
    this.ensureOpen();
    assertKeyPattern(pattern);
    const include = (options.initialValues ?? true) ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly;
    const entries = await mapFailure(`Watching ${pattern} in bucket ${this.name}`, this.context, () =>
      this.kv.watch({ key: pattern, include }),
    );
    async function* current(): AsyncGenerator<KvEntry> {
      for await (const entry of entries) {
        // The first entries are each key's last value: a key whose last word is a delete has no value to show.
        if (!entry.isUpdate && entry.operation !== 'PUT') continue;
        yield toEntry(entry);
      }
    }
    const iterator = current();
    return {
      [Symbol.asyncIterator]: () => iterator,
      stop: () => entries.stop(),
    };
  }

  private async run<T>(key: string, what: string, operation: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    assertKey(key);
    return mapFailure(`KV ${what} of ${key} in bucket ${this.name}`, this.context, operation);
  }
}

function toEntry(entry: {
  bucket: string;
  key: string;
  value: Uint8Array;
  revision: number;
  operation: KvEntry['operation'];
  created: Date;
}): KvEntry {
  const { bucket, key, value, revision, operation, created } = entry;
  return { bucket, key, value: plainBytes(value), revision, operation, created };
}
