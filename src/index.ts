/**
 * automesh: the public API. Everything a user imports comes from here.
 */
export { Executor, limitsFromSettings } from './sandbox/executor.js';
export type { ExecutorOptions } from './sandbox/executor.js';
export type { CodeExecutor, ExecutionRequest } from './sandbox/executor-contract.js';
export { wrapExecutor } from './sandbox/executor-middleware.js';
export type { ExecuteCall, ExecutorMiddleware } from './sandbox/executor-middleware.js';
export type { ExecutionErrorCategory, ExecutionLimits, ExecutionResult } from './sandbox/types.js';
export type { ConfinementStatus, WorkerConfinement } from './sandbox/confine.js';
export { defineTool } from './sandbox/tools.js';
export type { ToolDefinition, ToolNamespaces, ToolsInput } from './sandbox/tools.js';
export { loadSandboxSettings } from './config/sandbox-settings.js';
export type { SandboxSettings } from './config/sandbox-settings.js';
export { loadSettings, maskSecret, SettingsError, PROVIDER_NAMES } from './config/settings.js';
export type { Settings, SettingsInput, SettingName, ProviderName, LoadSettingsOptions } from './config/settings.js';
export { LlmChain } from './llm/chain.js';
export type { ChainOptions } from './llm/chain.js';
export type { CallEstimate, CodeModel, ModelRef } from './llm/code-model.js';
export { createCodeModel } from './llm/create-model.js';
export { wrapModel } from './llm/model-middleware.js';
export type { GenerateCall, ModelMiddleware } from './llm/model-middleware.js';
export type { LlmRoute } from './llm/route.js';
export type { LlmCallEvent, LlmCallObserver } from './llm/call-events.js';
export { LlmChainError, LlmAbortError, NoProviderError, ProviderError } from './llm/errors.js';
export { ReplayMissError } from './llm/record-replay.js';
export { resetCooldowns } from './llm/cooldown.js';
export type {
  LlmRequest, LlmReply, LlmMessage, TokenUsage, FinishReason, ProviderFailure, FailureKind, Provider, Completion,
  CallOptions,
} from './llm/types.js';
export { AutoAgent } from './agent/auto-agent.js';
export type { AgentClass, AgentOptions } from './agent/auto-agent.js';
export { defineAgent } from './agent/definition.js';
export type { AgentDefinition } from './agent/definition.js';
export type { Envelope, Attempt, EnvelopeErrorCategory } from './agent/envelope.js';
export { categoryHint, ERROR_CATEGORIES, ERROR_CATEGORY_NAMES, isRepairable } from './core/error-categories.js';
export type { ErrorCategory, ErrorCategoryInfo } from './core/error-categories.js';
export { AutomeshError, isAutomeshError } from './core/errors.js';
export type { TaskInput } from './agent/pipeline.js';
export type { TaskWarning } from './agent/warning.js';
export { Mesh } from './mesh/mesh.js';
export type { MeshMiddleware, MeshOptions } from './mesh/mesh.js';
export { CodeRegistry, normalizeTask, stageOf } from './registry/index.js';
export type { DamagedRecord, RegistryEntry, RegistryListing, Stage } from './registry/index.js';
export { openSqliteStorage, createMemoryStorage, exportResults, isStorageError, StorageError, WorkflowLockedError } from './storage/index.js';
export type {
  ResultStore, RegistryStore, WorkflowStore, StoredResult, ResultSummary, Storage, StorageErrorCode, WorkflowLease, LeaseOwner,
  WorkflowHeader, StepRecord, WorkflowSnapshot,
} from './storage/index.js';
export { loadPromptTemplates, DEFAULT_PROMPT_DIRECTORY } from './codegen/prompts.js';
export type { WorkflowOptions, WorkflowResult } from './mesh/workflow-engine.js';
export type { StepBudget, StepCall, StepProgress, StepRunner, StepSchema } from './mesh/step-runner.js';
export { WorkflowStorageError } from './mesh/workflow-engine.js';
export type { WorkflowStep } from './mesh/workflow-spec.js';
export { WorkflowValidationError } from './mesh/workflow-spec.js';
export type { MeshEvents, MeshEventName, WorkflowSummary } from './mesh/events.js';
