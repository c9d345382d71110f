/**
 * Types of the code registry: one entry per piece of code that solved a task, with its track record.
 */

/**
 * Trust level of an entry, derived from its counts by {@link stageOf}:
 * `candidate` (not reused), `verified` (worked at least once, more successes than failures), `golden` (5+ successes).
 */
export type Stage = 'candidate' | 'verified' | 'golden';

/** Every stage, lowest trust first. */
export const STAGES: readonly Stage[] = ['candidate', 'verified', 'golden'];

/** Where an entry's code came from. */
export interface Provenance {
  /** LLM provider that wrote the code (`claude`, `vllm`, …); null when not written by an LLM. */
  provider: string | null;
  /** Model id that wrote the code; null when unknown. */
  model: string | null;
  /** Result log id of the task that first produced the code (`logs/<role>/<resultId>.json`). */
  resultId: string | null;
  /** ISO time of the first registration. */
  createdAt: string;
}

/**
 * One registered piece of code. Stored as JSON; never holds secrets (code that embeds a key must not be registered:
 * generated code reaches keys only through tools, which run on the host).
 */
export interface RegistryEntry {
  /** `fn_` + 16 hex digits of sha256(taskKey + '\n' + code): the same code for the same task key is one entry. */
  id: string;
  role: string;
  /** The task as first registered (for display). */
  task: string;
  /** {@link normalizeTask} of `task`. */
  normalizedTask: string;
  /** {@link taskKey} of role, task and the hash of the dependencies below: what a lookup matches on. */
  taskKey: string;
  /** Hash of the agent's system prompt: a changed prompt means the old code is not reused. */
  systemPromptHash: string;
  /**
   * Hashes of the context's shape, the tools' signatures and the output schema the code was written for. Absent on
   * entries written before they were part of the key: such entries are listed but never reused.
   */
  contextShapeHash?: string;
  toolsHash?: string;
  outputSchemaHash?: string;
  /** The agent's capabilities when the code was registered. */
  capabilities: string[];
  code: string;
  provenance: Provenance;
  successCount: number;
  failureCount: number;
  stage: Stage;
  /** ISO time of the last success or failure reported; null until then. */
  lastUsedAt: string | null;
  /** Message of the last failure; null if it never failed. */
  lastError: string | null;
}

/** A stored registry record that cannot be read (bad JSON, wrong shape, unreadable file). */
export interface DamagedRecord {
  /** `entry` (one piece of code) or `index` (the list of entries of one task key). */
  kind: 'entry' | 'index';
  /** The entry id, or the task key of an index. */
  id: string;
  /** Where it is stored (a file path in the file backend). */
  path: string;
  /** What is wrong and what to do about it. */
  reason: string;
}

/** Entries read by a scan, and the records it could not read (each affects only itself). */
export interface RegistryScan {
  entries: RegistryEntry[];
  damaged: DamagedRecord[];
}
