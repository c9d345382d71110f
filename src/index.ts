/**
 * automesh: the public API. Everything a user imports comes from here.
 */
export { Executor, limitsFromSettings } from './sandbox/executor.js';
export type { ExecutionRequest, ExecutorOptions } from './sandbox/executor.js';
export type { ExecutionErrorCategory, ExecutionLimits, ExecutionResult } from './sandbox/types.js';
export { defineTool } from './sandbox/tools.js';
export type { ToolDefinition, ToolNamespaces, ToolsInput } from './sandbox/tools.js';
export { loadSandboxSettings } from './config/sandbox-settings.js';
export type { SandboxSettings } from './config/sandbox-settings.js';
