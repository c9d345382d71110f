/**
 * automesh: the public API. Everything a user imports comes from here.
 */

export type { AgentClass, AgentOptions } from './agent/auto-agent.js';
export { AutoAgent } from './agent/auto-agent.js';
export { CustomAgent, type CustomAgentClass, type CustomTaskInput, type PeerContext } from './agent/custom-agent.js';
export type { AgentDefinition } from './agent/definition.js';
export { defineAgent } from './agent/definition.js';
export type { Attempt, Envelope, EnvelopeErrorCategory } from './agent/envelope.js';
export type { PeerDescription } from './agent/peer-directory.js';
export type { AnthropicTool, OpenAiTool, PeerToolFormat, PeerToolName } from './agent/peer-tools.js';
export {
  type AskOptions,
  type BroadcastOptions,
  type BroadcastReply,
  type CollectedReply,
  type DiscoverOptions,
  type DiscoveryStrategy,
  type PeerInfo,
  type PeerRequest,
  Peers,
} from './agent/peers.js';
export type { TaskInput } from './agent/pipeline.js';
export { SESSION_HEADER, type Session, type SessionInput } from './agent/session.js';
export type { TaskWarning } from './agent/warning.js';
export { DEFAULT_PROMPT_DIRECTORY, loadPromptTemplates } from './codegen/prompts.js';
export type { SandboxSettings } from './config/sandbox-settings.js';
export { loadSandboxSettings } from './config/sandbox-settings.js';
export type { LoadSettingsOptions, ProviderName, SettingName, Settings, SettingsInput } from './config/settings.js';
export { loadSettings, maskSecret, PROVIDER_NAMES, SettingsError } from './config/settings.js';
export type { ErrorCategory, ErrorCategoryInfo } from './core/error-categories.js';
export { categoryHint, ERROR_CATEGORIES, ERROR_CATEGORY_NAMES, isRepairable } from './core/error-categories.js';
export { AutomeshError, isAutomeshError } from './core/errors.js';
export type { AgentInfrastructure } from './infra/agent-infra.js';
export type { BlobInfo, BlobStore } from './infra/blob-store.js';
export { BLOB_BUCKET } from './infra/blob-store.js';
export { MAILBOX_BUCKET } from './infra/kv-mailbox.js';
export type { Mailbox, MailboxMessage, MailboxSender, ReceiveOptions, SentMessage } from './infra/mailbox.js';
export type { LlmCallEvent, LlmCallObserver } from './llm/call-events.js';
export type { ChainOptions } from './llm/chain.js';
export { LlmChain } from './llm/chain.js';
export type { CallEstimate, CodeModel, ModelRef } from './llm/code-model.js';
export { resetCooldowns } from './llm/cooldown.js';
export { createCodeModel } from './llm/create-model.js';
export { LlmAbortError, LlmChainError, NoProviderError, ProviderError } from './llm/errors.js';
export type { GenerateCall, ModelMiddleware } from './llm/model-middleware.js';
export { wrapModel } from './llm/model-middleware.js';
export { ReplayMissError } from './llm/record-replay.js';
export type { LlmRoute } from './llm/route.js';
export type {
  CallOptions,
  Completion,
  FailureKind,
  FinishReason,
  LlmMessage,
  LlmReply,
  LlmRequest,
  Provider,
  ProviderFailure,
  TokenUsage,
} from './llm/types.js';
export type { MeshEventName, MeshEvents, MeshWarning, WorkflowSummary } from './mesh/events.js';
export type { MeshMiddleware, MeshOptions } from './mesh/mesh.js';
export { Mesh } from './mesh/mesh.js';
export type { AutoAgentInput } from './mesh/served-auto-agent.js';
export type { StepBudget, StepCall, StepProgress, StepRunner, StepSchema } from './mesh/step-runner.js';
export type { WorkflowOptions, WorkflowResult } from './mesh/workflow-engine.js';
export { WorkflowStorageError } from './mesh/workflow-engine.js';
export type { WorkflowStep } from './mesh/workflow-spec.js';
export { WorkflowValidationError } from './mesh/workflow-spec.js';
export type { DamagedRecord, RegistryEntry, RegistryListing, Stage } from './registry/index.js';
export { CodeRegistry, normalizeTask, stageOf } from './registry/index.js';
export type { ConfinementStatus, WorkerConfinement } from './sandbox/confine.js';
export type { ExecutorOptions } from './sandbox/executor.js';
export { Executor, limitsFromSettings } from './sandbox/executor.js';
export type { CodeExecutor, ExecutionRequest } from './sandbox/executor-contract.js';
export type { ExecuteCall, ExecutorMiddleware } from './sandbox/executor-middleware.js';
export { wrapExecutor } from './sandbox/executor-middleware.js';
export type { ToolDefinition, ToolNamespaces, ToolsInput } from './sandbox/tools.js';
export { defineTool } from './sandbox/tools.js';
export type { ExecutionErrorCategory, ExecutionLimits, ExecutionResult } from './sandbox/types.js';
export type { HealthReport } from './server/health.js';
export { createMeshHandler, type MeshHandler, type MeshHandlerOptions } from './server/routes.js';
export { type ListenOptions, type MeshServer, ServeError, type ServeOptions, serveMesh } from './server/serve.js';
export type { WorkflowView } from './server/workflow-view.js';
export type {
  LeaseOwner,
  RegistryStore,
  ResultStore,
  ResultSummary,
  StepRecord,
  Storage,
  StorageErrorCode,
  StoredResult,
  WorkflowHeader,
  WorkflowLease,
  WorkflowListing,
  WorkflowSnapshot,
  WorkflowStore,
} from './storage/index.js';
export {
  createMemoryStorage,
  exportResults,
  isStorageError,
  openSqliteStorage,
  StorageError,
  WorkflowLockedError,
} from './storage/index.js';
export type {
  Studio,
  StudioAgent,
  StudioOptions,
  StudioServer,
  StudioServerOptions,
  StudioSource,
} from './studio/index.js';
export { createStudio, serveStudio } from './studio/index.js';
export { MeshMetrics } from './telemetry/metrics.js';
export { type MetricsServer, metricsRequestHandler, startMetricsServer } from './telemetry/metrics-server.js';
export { TRACER_NAME } from './telemetry/spans.js';
export { TRACEPARENT, TRACESTATE } from './telemetry/trace-headers.js';
export type {
  Bus,
  BusErrorCode,
  BusMessage,
  ConnectionEvent,
  KvBucket,
  KvEntry,
  ObjectBucket,
} from './transport/index.js';
export { BusError, connectInProcess, InProcessBroker, isBusError } from './transport/index.js';
export type {
  CallOptions as MeshCallOptions,
  PublishOptions,
  SendOptions,
  StreamOptions,
} from './transport/oam/caller.js';
export type { CatalogFilter } from './transport/oam/catalog.js';
export type { AgentContract, AgentShape, CatalogEntry, RegistryDocument } from './transport/oam/contract-types.js';
export type { AgentContext, FunctionAgentHandler, FunctionAgentSpec } from './transport/oam/function-agent.js';
export type { ErrorEnvelope, MeshErrorCode } from './transport/oam/mesh-error.js';
export { isMeshError, MESH_ERROR_CODES, MeshError } from './transport/oam/mesh-error.js';
export type { SharedKv, SharedKvChange, SharedKvWatch, SharedValue } from './transport/oam/shared-kv.js';
export type { SubscribeOptions, SubscribeTarget } from './transport/oam/subscription.js';
export type { Workspace } from './transport/oam/workspace.js';
