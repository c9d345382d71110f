/**
 * Storage: interfaces (results, code registry, workflow state), the embedded database (the default), the memory
 * backend, and `logs export`.
 */
export type {
  RegistryEntry, RegistryStore, ResultStore, ResultSummary, Storage, StoredResult, WorkflowStore,
  ResultFilter, ResultScanItem, DamagedResult, LeaseOwner, WorkflowLease, WorkflowHeader, StepRecord, WorkflowSnapshot,
  DamagedWorkflowRecord, WorkflowStatus, StepStatus,
} from './types.js';
export { DATABASE_FILE, databasePath, openSqliteStorage, openStorageFromSettings } from './sqlite/index.js';
export { createMemoryStorage, emptyMemoryData, MemoryRegistryStore, MemoryResultStore, MemoryWorkflowStore } from './memory/index.js';
export type { MemoryData } from './memory/index.js';
export { exportResults } from './export-logs.js';
export type { ExportReport } from './export-logs.js';
export { assertUsableDirectory } from './usable-directory.js';
export { InvalidNameError, isStorageError, StorageError, WorkflowLockedError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { assertRoleName, assertSafeName, RESERVED_ROLE_NAMES, SAFE_NAME } from './names.js';
