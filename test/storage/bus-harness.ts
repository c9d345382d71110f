/**
 * The conformance harness of the KV storage (`openBusStorage`) on any bus: each `open()` gets its own buckets (and
 * result log), `reopen()` connects another bus to the same ones as a second process would, and the damage hooks
 * write bad bytes straight into a key.
 */
import {
  emptyMemoryData,
  type MemoryData,
  MemoryResultStore,
  openBusStorage,
  type Storage,
} from '../../src/storage/index.js';
import { entryKey, headerKey, stepKey } from '../../src/storage/nats/keys.js';
import type { Bus } from '../../src/transport/bus.js';
import type { StorageHarness } from './conformance.js';

/** How the harness reaches the broker: a new connection, on the same broker as `place` when given. */
export interface BusPlace {
  connect(): Promise<Bus>;
}

interface Opened {
  place: BusPlace;
  bus: Bus;
  names: { registry: string; workflows: string };
  data: MemoryData;
}

const encoder = new TextEncoder();

/** The conformance harness, and for the KV storage's own tests: another storage on the same buckets through a bus of its own making. */
export interface BusStorageHarness extends StorageHarness {
  /** Like `reopen`, with the new connection passed through `wrap` first (e.g. to hold back its watches). */
  reopenWith(storage: Storage, wrap: (bus: Bus) => Bus): Promise<Storage>;
  /** The bus and bucket names of a storage of this harness. */
  busOf(storage: Storage): { bus: Bus; names: { registry: string; workflows: string } };
}

export function busStorageHarness(newPlace: () => Promise<BusPlace>): BusStorageHarness {
  const opened = new WeakMap<Storage, Opened>();
  let count = 0;
  const openOn = async (
    place: BusPlace,
    names: Opened['names'],
    data: MemoryData,
    wrap: (bus: Bus) => Bus = (bus) => bus,
  ): Promise<Storage> => {
    const bus = wrap(await place.connect());
    const storage = await openBusStorage({
      bus,
      results: new MemoryResultStore(data.results),
      buckets: names,
      onClose: () => bus.close(),
    });
    opened.set(storage, { place, bus, names, data });
    return storage;
  };
  const of = (storage: Storage): Opened => {
    const found = opened.get(storage);
    if (!found) throw new Error('not a storage of this harness');
    return found;
  };
  const write = async (storage: Storage, which: 'registry' | 'workflows', key: string, text: string) => {
    const { bus, names } = of(storage);
    await (await bus.kv(names[which])).put(key, encoder.encode(text));
  };
  return {
    open: async () => {
      const n = ++count;
      return openOn(await newPlace(), { registry: `reg-${n}`, workflows: `wf-${n}` }, emptyMemoryData());
    },
    reopen: async (storage) => {
      const { place, names, data } = of(storage);
      return openOn(place, names, data);
    },
    reopenWith: async (storage, wrap) => {
      const { place, names, data } = of(storage);
      return openOn(place, names, data, wrap);
    },
    busOf: (storage) => of(storage),
    damage: {
      result: async (storage, role, resultId, text) => {
        const row = of(storage).data.results.get(`${role}/${resultId}`);
        if (!row) throw new Error(`no result ${role}/${resultId} to damage`);
        row.text = text;
      },
      entry: (storage, id, text) => write(storage, 'registry', entryKey(id), text),
      header: (storage, workflowId, text) => write(storage, 'workflows', headerKey(workflowId), text),
      step: (storage, workflowId, stepId, text) => write(storage, 'workflows', stepKey(workflowId, stepId), text),
    },
  };
}
