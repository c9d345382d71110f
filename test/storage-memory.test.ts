// The memory backend passes the storage conformance suite.
import { createMemoryStorage, emptyMemoryData, type MemoryData, type Storage } from '../src/storage/index.js';
import { runStorageConformance } from './storage/conformance.js';

const dataOf = new WeakMap<Storage, MemoryData>();

function open(data: MemoryData): Storage {
  const storage = createMemoryStorage(data);
  dataOf.set(storage, data);
  return storage;
}

const data = (storage: Storage): MemoryData => {
  const found = dataOf.get(storage);
  if (!found) throw new Error('not a storage of this harness');
  return found;
};

runStorageConformance('memory', {
  open: async () => open(emptyMemoryData()),
  reopen: async (storage) => open(data(storage)),
  damage: {
    result: async (storage, role, resultId, text) => {
      data(storage).results.get(`${role}/${resultId}`)!.text = text;
    },
    entry: async (storage, id, text) => {
      data(storage).registry.get(id)!.text = text;
    },
    header: async (storage, workflowId, text) => {
      data(storage).workflows.get(workflowId)!.header = text;
    },
    step: async (storage, workflowId, stepId, text) => {
      data(storage).workflows.get(workflowId)!.steps.set(stepId, text);
    },
  },
});
