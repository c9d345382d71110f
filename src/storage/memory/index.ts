/**
 * The memory backend: all three stores in this process, gone when it ends. For tests and throwaway runs
 * (`new Mesh({ storage: createMemoryStorage() })`).
 */
import type { Storage } from '../types.js';
import { type MemoryEntryRow, MemoryRegistryStore } from './registry.js';
import { type MemoryResultRow, MemoryResultStore } from './results.js';
import { type MemoryWorkflowRow, MemoryWorkflowStore } from './workflows.js';

/** The data of a memory storage. Two storages opened on one `MemoryData` see the same records, like two processes on one database. */
export interface MemoryData {
  results: Map<string, MemoryResultRow>;
  registry: Map<string, MemoryEntryRow>;
  workflows: Map<string, MemoryWorkflowRow>;
}

export function emptyMemoryData(): MemoryData {
  return { results: new Map(), registry: new Map(), workflows: new Map() };
}

/** A {@link Storage} in memory; on `data` when given (shared with another storage), else on its own. */
export function createMemoryStorage(data: MemoryData = emptyMemoryData()): Storage {
  return {
    results: new MemoryResultStore(data.results),
    registry: new MemoryRegistryStore(data.registry),
    workflows: new MemoryWorkflowStore(data.workflows),
    location: 'memory',
    close: async () => undefined,
  };
}

export type { MemoryEntryRow, MemoryResultRow, MemoryWorkflowRow };
export { MemoryRegistryStore, MemoryResultStore, MemoryWorkflowStore };
