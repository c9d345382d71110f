/**
 * The studio: a web dashboard over the result log, the code registry and workflow state (a LOG_DIRECTORY or a NATS
 * mesh). `createStudio` is a node:http request handler any server can mount; `serveStudio` runs it on its own.
 */
export { assertExposable, bearerMatches, isLoopbackHost, StudioExposureError } from './auth.js';
export type { GraphStep, RegistryLine, WorkflowGraph } from './data.js';
export { graphOf, StudioData } from './data.js';
export { createStudio, type Studio, type StudioOptions } from './handler.js';
export { type StudioServer, type StudioServerOptions, serveStudio } from './serve.js';
export type { StudioAgent, StudioSource } from './source.js';
export type { CostLine, RepairNumbers, StudioStats, TimeBucket } from './stats.js';
