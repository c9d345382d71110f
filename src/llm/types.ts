/** The provider-neutral shapes of an LLM call. */

import type { LlmCallObserver } from './call-events.js';
import type { ProviderName } from './providers/index.js';

export type { ProviderName };

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** One call: the system prompt and the conversation so far. */
export interface LlmRequest {
  system: string;
  messages: LlmMessage[];
  /** Defaults to `LLM_TEMPERATURE`. */
  temperature?: number;
  /** Most tokens of the reply; defaults to `LLM_MAX_TOKENS`. */
  maxTokens?: number;
  /** Cancels the call (and its retries and failovers) when aborted. */
  signal?: AbortSignal;
  /** Told of each retry and failover as it happens (progress displays). */
  onEvent?: LlmCallObserver;
  /** The role of the agent whose task makes the call: a label for metrics and middleware; never sent. */
  agent?: string;
}

export interface TokenUsage {
  input: number;
  output: number;
  total: number;
}

/** Why the model stopped: `stop` is a complete answer; anything else the chain treats as a failure. */
export type FinishReason = 'stop' | 'length' | 'filtered' | 'other';

/** A provider's answer, normalized. */
export interface LlmReply {
  text: string;
  provider: ProviderName;
  model: string;
  tokens: TokenUsage;
  /** USD for this call; `null` when the model has no known price (see `unpriced`). */
  costUsd: number | null;
  /** True when the model is missing from the price table: the cost is unknown, not zero. */
  unpriced: boolean;
  /**
   * True when the provider's token counts were missing or not counts (strings, negative, fractional): `tokens`
   * are then estimated from the text, and `costUsd` is null.
   */
  tokensEstimated: boolean;
  /** Wall-clock milliseconds of the whole chain call, retries and failovers included. */
  durationMs: number;
  finishReason: FinishReason;
  /** Failed tries before this reply (retries and failovers), oldest first. */
  failures: ProviderFailure[];
  /** True when the reply came from an `AUTOMESH_REPLAY` file rather than the network. */
  replayed: boolean;
}

/** One failed try, as reported in replies and errors. */
export interface ProviderFailure {
  provider: ProviderName;
  model: string;
  kind: FailureKind;
  status: number | null;
  message: string;
}

export type FailureKind =
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'unreachable'
  | 'auth'
  | 'model'
  | 'bad_request'
  | 'empty'
  | 'truncated'
  | 'filtered'
  | 'malformed'
  | 'aborted'
  | 'unknown';

/** What a provider adapter returns for one HTTP call. */
export interface Completion {
  text: string;
  model: string;
  /** As the provider reported them; null (or anything but a non-negative whole number) means unknown. */
  inputTokens: number | null;
  outputTokens: number | null;
  finishReason: FinishReason;
}

/** Options the chain gives a provider for one call. */
export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  temperature: number;
  maxTokens: number;
}

/** One provider behind the chain: an official SDK client with its own retries off. */
export interface Provider {
  readonly name: ProviderName;
  readonly model: string;
  /** Where it sends requests (for messages; never includes a key). */
  readonly endpoint: string;
  /**
   * Loads what its first call needs (its SDK module), so that the load is not timed as part of a call. Never
   * rejects: a failed load is reported by `complete`.
   */
  prepare?(): Promise<void>;
  complete(request: LlmRequest, options: CallOptions): Promise<Completion>;
}
