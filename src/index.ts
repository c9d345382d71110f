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
export { loadSettings, maskSecret, SettingsError, PROVIDER_NAMES } from './config/settings.js';
export type { Settings, SettingsInput, SettingName, ProviderName, LoadSettingsOptions } from './config/settings.js';
export { LlmChain } from './llm/chain.js';
export type { ChainOptions } from './llm/chain.js';
export { LlmChainError, LlmAbortError, NoProviderError, ProviderError } from './llm/errors.js';
export { ReplayMissError } from './llm/record-replay.js';
export { resetCooldowns } from './llm/cooldown.js';
export type {
  LlmRequest, LlmReply, LlmMessage, TokenUsage, FinishReason, ProviderFailure, FailureKind, Provider, Completion,
  CallOptions,
} from './llm/types.js';
