/**
 * The studio: a web dashboard over the result log, the code registry and workflow state (a LOG_DIRECTORY or a NATS
 * mesh). `createStudio` is a node:http request handler any server can mount; `serveStudio` runs it on its own.
 */

export type {
  CostLine,
  GraphStep,
  RepairNumbers,
  StudioAgent,
  StudioStats,
  StudioStepStatus,
  TimeBucket,
  WorkflowGraph,
} from './api-types.js';
export { assertExposable, bearerMatches, isLoopbackHost, StudioExposureError } from './auth.js';
export type { RegistryLine } from './data.js';
export { graphOf, StudioData } from './data.js';
export { createStudio, type Studio, type StudioOptions } from './handler.js';
export { type StudioServer, type StudioServerOptions, serveStudio } from './serve.js';
export type { StudioSource } from './source.js';
