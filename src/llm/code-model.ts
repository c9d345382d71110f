/**
 * The model contract: what the agent pipeline asks of "something that writes code". The provider chain
 * (`LlmChain`) is one implementation; {@link wrapModel} puts middleware around any of them (timing, record and
 * replay, a cache), and `createCodeModel` builds the one the settings describe.
 */
import type { LlmRoute } from './route.js';
import type { LlmReply, LlmRequest, ProviderName } from './types.js';

/** A provider and the model it calls. */
export interface ModelRef {
  provider: ProviderName;
  model: string;
}

/** The most one call can cost, before it is made (budgets). */
export interface CallEstimate {
  /** USD; null when a provider that could answer has no price. */
  costUsd: number | null;
  /** The provider and model the estimate is for: the dearest one that could answer (null with no provider). */
  provider: ProviderName | null;
  model: string | null;
  /** Prompt tokens, estimated from the text. */
  inputTokens: number;
  /** The request's most output tokens. */
  outputTokens: number;
}

export interface CodeModel {
  /** The providers and models a call may reach, in the order they are tried (empty when none is called, e.g. a replay). */
  readonly models: readonly ModelRef[];
  /** One answer; throws `LlmChainError` when no provider gives one, `LlmAbortError` when the request's signal fired. */
  complete(request: LlmRequest): Promise<LlmReply>;
  /** The most the call of `request` can cost (checked against budgets before the call). */
  estimate(request: LlmRequest): CallEstimate;
  /** Models this model may call that have no price (a budget cannot bound what they cost). */
  unpricedModels(): ModelRef[];
  /**
   * The model for an agent's own provider order and models (`owner` names the agent in errors); this one when
   * the route changes nothing. Throws `RouteError` for a provider that is not configured.
   */
  route(route: LlmRoute | undefined, owner: string): CodeModel;
  /** Loads what the first call needs (the providers' SDKs), so that the first task does not wait for it. */
  prepare?(): Promise<void>;
}
