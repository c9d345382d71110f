/** The result envelope of a task (DESIGN.md section 3): what `executeTask` and workflows return. */

import type { ErrorCategory } from '../core/error-categories.js';
import type { TokenUsage } from '../llm/types.js';

/**
 * Why a task (or an attempt) failed: every category of `core/error-categories.ts`. Besides the sandbox's: `schema`
 * (the result does not match the output schema), `llm` (every provider failed), `budget`, `dependency` (workflows),
 * `cancelled` (by the caller or `mesh.stop()`), `storage` (the result could not be stored; its code was not registered).
 */
export type EnvelopeErrorCategory = ErrorCategory;

/** One try at the task: generated (or reused) code and how it fared. */
export interface Attempt {
  code: string | null;
  error: string | null;
  errorCategory: EnvelopeErrorCategory | null;
  /** `null` when the code came from the registry (no LLM call). */
  provider: string | null;
  model: string | null;
  tokens: TokenUsage;
  /** Present when the provider's token counts were not usable: `tokens` are estimated and the cost is unknown. */
  tokensEstimated?: true;
  durationMs: number;
  /**
   * The model's raw reply (at most 16 KiB, see `replyTruncated`), so a failure such as a reply with no code can be
   * understood; null when the code came from the registry or the call failed.
   */
  reply: string | null;
  /** True when `reply` was cut to its bound. */
  replyTruncated: boolean;
}

export interface Envelope {
  status: 'success' | 'failure' | 'skipped';
  /** The value of `result` (plain JSON data); null unless success. */
  output: unknown;
  /** The code that produced `output` (after repairs); the last attempt's code on failure. */
  code: string | null;
  /** Repair calls made; 0 when the first code worked. */
  repairs: number;
  /** Seconds for the whole task: generation, execution, repairs. */
  executionTime: number;
  /** Summed over every LLM call of the task. */
  tokens: TokenUsage;
  /** Summed; null when a model used has no known price (never a guess). */
  costUsd: number | null;
  /** Id of the stored result under the log directory. */
  resultId: string;
  /** Code registry id, when registered or reused. */
  functionId: string | null;
  error: string | null;
  errorCategory: EnvelopeErrorCategory | null;
  attempts: Attempt[];
  /** True when the registry's code ran with no LLM call. */
  cached: boolean;
  /** Console output of the final execution (bounded). */
  logs: string[];
  agentId: string;
  role: string;
  provider: string | null;
  model: string | null;
  stepId?: string;
  recovered?: boolean;
}

export const ZERO_TOKENS: TokenUsage = Object.freeze({ input: 0, output: 0, total: 0 });

export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { input: a.input + b.input, output: a.output + b.output, total: a.total + b.total };
}
