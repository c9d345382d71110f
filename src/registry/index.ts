/**
 * Code registry: register code that worked, look it up for the same task, track successes and failures by stage.
 */
export { CodeRegistry, MAX_ERROR_LENGTH } from './code-registry.js';
export type { LookupInput, RegisterInput, SearchHit } from './code-registry.js';
export { functionId, hashText, normalizeTask, taskKey } from './task-key.js';
export { GOLDEN_SUCCESSES, stageOf } from './stage.js';
export { STAGES } from './types.js';
export type { Provenance, RegistryEntry, Stage } from './types.js';
