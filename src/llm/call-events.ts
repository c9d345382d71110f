/**
 * What a chain call reports while it runs, for progress displays: a retry of the same provider (with the wait
 * before it) or a failover to the next one. A hung or failing provider is then visible at once instead of
 * minutes of silence. Messages are the classified failures' (never a key or a prompt).
 */
import type { FailureKind, ProviderName } from './types.js';

export interface LlmCallEvent {
  kind: 'retry' | 'failover';
  /** The provider whose try failed. */
  provider: ProviderName;
  model: string;
  /** The failed try of that provider, 1 for its first. */
  attempt: number;
  /** `retry`: milliseconds until the next try; `failover`: 0. */
  delayMs: number;
  /** `failover`: the provider tried next. */
  next: ProviderName | null;
  /** `kind: message` of the failure. */
  error: string;
  errorKind: FailureKind;
}

/** Called synchronously, in order, for each retry and failover of one call. */
export type LlmCallObserver = (event: LlmCallEvent) => void;
