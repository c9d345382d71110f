/**
 * Storage: interfaces (results, code registry, workflow state), the embedded database (the default), the memory
 * backend, and `logs export`.
 */

export type { StorageErrorCode } from './errors.js';
export { InvalidNameError, isStorageError, StorageError, WorkflowLockedError } from './errors.js';
export type { ExportReport } from './export-logs.js';
export { exportResults } from './export-logs.js';
export type { MemoryData } from './memory/index.js';
export {
  createMemoryStorage,
  emptyMemoryData,
  MemoryRegistryStore,
  MemoryResultStore,
  MemoryWorkflowStore,
} from './memory/index.js';
export { assertRoleName, assertSafeName, RESERVED_ROLE_NAMES, SAFE_NAME } from './names.js';
export {
  BUCKET_OPTIONS,
  type BusStorageOptions,
  openBusStorage,
  REGISTRY_BUCKET,
  WORKFLOWS_BUCKET,
} from './nats/index.js';
export { DATABASE_FILE, databasePath, openSqliteStorage, openStorageFromSettings } from './sqlite/index.js';
export type {
  DamagedResult,
  DamagedWorkflowRecord,
  LeaseOwner,
  PlannedStepLine,
  RegistryEntry,
  RegistryStore,
  ResultFilter,
  ResultScanItem,
  ResultStore,
  ResultSummary,
  StepRecord,
  StepStatus,
  Storage,
  StoredResult,
  WorkflowHeader,
  WorkflowLease,
  WorkflowListing,
  WorkflowSnapshot,
  WorkflowStatus,
  WorkflowStore,
} from './types.js';
export { assertUsableDirectory } from './usable-directory.js';
