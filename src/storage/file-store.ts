/**
 * The file backend: all three stores under one root (DESIGN.md section 6).
 */
import { join, resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import { FileRegistryStore, type FileRegistryStoreOptions } from './file-registry-store.js';
import { FileResultStore } from './file-result-store.js';
import { FileWorkflowStore } from './file-workflow-store.js';
import type { Storage, WholeDocumentWorkflowStore } from './types.js';

/** {@link Storage} of the file backend, with the concrete classes (for `reindex()` and the paths). */
export interface FileStorage extends Omit<Storage, 'workflows'> {
  /** @deprecated whole-document state, until the engine moves to per-step records. */
  workflows: FileWorkflowStore & WholeDocumentWorkflowStore;
  /** Absolute root. */
  root: string;
  results: FileResultStore;
  registry: FileRegistryStore;
}

/**
 * Opens file storage under `root` (created on first write):
 * `<root>/<role>/<resultId>.json`, `<root>/registry/`, `<root>/workflows/<workflowId>.json`.
 * Relative roots resolve against the current directory, once, here.
 */
export function createFileStorage(root: string, options: { registry?: FileRegistryStoreOptions } = {}): FileStorage {
  const absolute = resolve(root);
  return {
    root: absolute,
    results: new FileResultStore(absolute),
    registry: new FileRegistryStore(join(absolute, 'registry'), options.registry),
    workflows: new FileWorkflowStore(join(absolute, 'workflows')),
    location: absolute,
    close: async () => undefined,
  };
}

/** {@link createFileStorage} at the `LOG_DIRECTORY` setting (default `./logs`). */
export function createStorageFromSettings(settings: Pick<Settings, 'LOG_DIRECTORY'>): FileStorage {
  return createFileStorage(settings.LOG_DIRECTORY);
}
