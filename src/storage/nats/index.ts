/**
 * Storage on a bus's key-value buckets (JetStream KV on NATS, or the in-process bus): the code registry and the
 * workflow state shared by every node of a distributed mesh, on the buckets `automesh-registry` and
 * `automesh-workflows`. The result log is not on KV: it stays with the node that ran the step (its embedded
 * database) and is passed in as `results`.
 */
import type { Bus, KvBucket, KvBucketOptions } from '../../transport/bus.js';
import type { ResultStore, Storage } from '../types.js';
import { kvCall } from './failures.js';
import { REGISTRY_BUCKET, WORKFLOWS_BUCKET } from './keys.js';
import { BusRegistryStore } from './registry.js';
import { RegistryMirror } from './registry-mirror.js';
import { kvPlace } from './texts.js';
import { BusWorkflowStore } from './workflows.js';

/**
 * The buckets' settings when this creates them (an existing bucket is used as it is). No TTL: entries and workflow
 * state live until removed. The registry keeps a few past revisions of each entry, to look at after a bad update;
 * workflow records keep only the latest (a step's record may be about 1 MiB, and only the latest is ever read).
 */
export const BUCKET_OPTIONS: Readonly<{ registry: KvBucketOptions; workflows: KvBucketOptions }> = {
  registry: { history: 5 },
  workflows: { history: 1 },
};

export interface BusStorageOptions {
  /** The connected bus; this storage never closes it (its owner does). */
  bus: Bus;
  /** The result log of this node (e.g. the `results` of its embedded database). */
  results: ResultStore;
  /** Called by `close()` after the registry watch stopped, e.g. to close the database that holds `results`. */
  onClose?: () => Promise<void>;
  /** Told when the registry's watch failed and is opened again. */
  onWarning?: (message: string) => void;
  /** Other bucket names (default `automesh-registry`, `automesh-workflows`): separate meshes on one server, tests. */
  buckets?: { registry?: string; workflows?: string };
}

/** A {@link Storage} whose registry and workflows are shared by every process on `bus`. */
export async function openBusStorage(options: BusStorageOptions): Promise<Storage> {
  const { bus, results } = options;
  const location = bus.location;
  const names = {
    registry: options.buckets?.registry ?? REGISTRY_BUCKET,
    workflows: options.buckets?.workflows ?? WORKFLOWS_BUCKET,
  };
  const open = (which: 'registry' | 'workflows'): Promise<KvBucket> =>
    kvCall('open it', `${names[which]} on ${location}`, () => bus.kv(names[which], BUCKET_OPTIONS[which]));
  let registryBucket = await open('registry');
  let workflowsBucket = await open('workflows');
  const maxPayload = (): number => bus.maxPayload;
  const registryPlace = kvPlace(names.registry, location, () => registryBucket, maxPayload);
  const mirror = new RegistryMirror(registryPlace, { onWarning: options.onWarning });
  await mirror.start();
  // After a broker restart the store may have been lost with its buckets: open (create) them again and reload.
  const stopListening = bus.onConnection((event) => {
    // A bus closed for good (its owner stopping) ends the watch with it: nothing to open again, nothing to warn of.
    if (event.type === 'closed') mirror.stop();
    if (event.type !== 'reconnected') return;
    void (async () => {
      registryBucket = await open('registry');
      workflowsBucket = await open('workflows');
      await mirror.restart();
    })().catch((error: unknown) =>
      options.onWarning?.(
        `After reconnecting to ${location}, the registry could not be loaded again (${(error as Error).message}); it is retried at the next reconnect.`,
      ),
    );
  });
  let closed = false;
  return {
    results,
    registry: new BusRegistryStore(registryPlace, mirror),
    workflows: new BusWorkflowStore(kvPlace(names.workflows, location, () => workflowsBucket, maxPayload)),
    location: `KV buckets ${names.registry} and ${names.workflows} on ${location}`,
    async close() {
      if (closed) return;
      closed = true;
      stopListening();
      mirror.stop();
      await options.onClose?.();
    },
  };
}

export { REGISTRY_BUCKET, WORKFLOWS_BUCKET } from './keys.js';
export { BusRegistryStore, BusWorkflowStore, RegistryMirror };
