/**
 * Code registry: register code that worked, look it up for the same task, track successes and failures by stage.
 */

export type {
  LookupInput,
  LookupOptions,
  RegisterInput,
  RegisterOptions,
  RegistryListing,
  SearchHit,
} from './code-registry.js';
export { CodeRegistry, MAX_ERROR_LENGTH } from './code-registry.js';
export type { CodeDependencies, PeerSignature, ToolSignature } from './dependencies.js';
export {
  codeDependencies,
  contextShapeHash,
  dependencyHash,
  MAX_SHAPE_DEPTH,
  MAX_SHAPE_ITEMS,
  outputSchemaHash,
  shapeOf,
  toolsHash,
} from './dependencies.js';
export { GOLDEN_SUCCESSES, stageOf } from './stage.js';
export { functionId, hashText, normalizeTask, taskKey } from './task-key.js';
export type { DamagedRecord, Provenance, RegistryEntry, RegistryScan, Stage } from './types.js';
export { STAGES } from './types.js';
