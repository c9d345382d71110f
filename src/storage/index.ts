/**
 * Storage: interfaces (results, code registry, workflow state) and their file backend.
 */
export type {
  RegistryEntry, RegistryStore, ResultStore, ResultSummary, Storage, StoredResult, WorkflowStore, WholeDocumentWorkflowStore,
  ResultFilter, ResultScanItem, DamagedResult, LeaseOwner, WorkflowLease, WorkflowHeader, StepRecord, WorkflowSnapshot, DamagedWorkflowRecord, WorkflowStatus, StepStatus,
} from './types.js';
export { createFileStorage, createStorageFromSettings } from './file-store.js';
export type { FileStorage } from './file-store.js';
export { FileResultStore } from './file-result-store.js';
export { FileRegistryStore } from './file-registry-store.js';
export type { FileRegistryStoreOptions } from './file-registry-store.js';
export { createMemoryStorage, emptyMemoryData, MemoryRegistryStore, MemoryResultStore, MemoryWorkflowStore } from './memory/index.js';
export type { MemoryData } from './memory/index.js';
export { FileWorkflowStore } from './file-workflow-store.js';
export { assertUsableDirectory } from './usable-directory.js';
export { DEFAULT_LOCK_POLICY } from './json-file.js';
export type { LockPolicy, RetryPolicy } from './json-file.js';
export { DamagedFileError, InvalidNameError, isStorageError, StorageError, StorageLockError, WorkflowLockedError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { assertRoleName, assertSafeName, RESERVED_ROLE_NAMES, SAFE_NAME } from './names.js';
