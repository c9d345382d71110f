/**
 * Storage interfaces (DESIGN.md section 6). Everything that persists goes through these, so the file backend
 * (`createFileStorage`) can be swapped for another (e.g. Redis) without touching agents, registry or workflows.
 *
 * Secrets: the stores save exactly what they are given. Callers must never pass API keys or other secrets (no
 * settings objects, no request headers, no provider configs): results hold envelopes and prompt hashes, the
 * registry holds generated code, workflows hold step states. Nothing here filters secrets out.
 */
import type { RegistryEntry, RegistryScan } from '../registry/types.js';

export type { RegistryEntry, RegistryScan };

/** One task's stored outcome: `<root>/<role>/<resultId>.json` in the file backend. */
export interface StoredResult {
  resultId: string;
  role: string;
  task: string;
  /** ISO time; {@link ResultStore.list} sorts on it. */
  createdAt: string;
  /** Hashes of the prompts used (e.g. `{ system: '…', codegen: '…' }`), never the prompts' secrets. */
  promptHashes: Record<string, string>;
  /** The task's result envelope (DESIGN.md section 3). */
  envelope: Record<string, unknown>;
}

/** A line of {@link ResultStore.list}. */
export interface ResultSummary {
  resultId: string;
  role: string;
  task: string;
  /** `envelope.status` (`success`, `failure`, `skipped`), or `unknown` when the envelope has none. */
  status: string;
  createdAt: string;
}

/** The result log: every task's envelope, success or failure. */
export interface ResultStore {
  /** Stores (or replaces) a result, atomically. `role` and `resultId` must be safe names (see `SAFE_NAME`). */
  save(result: StoredResult): Promise<void>;
  /** The result with this id; with `role`, only that role is searched. Null when there is none. */
  get(resultId: string, role?: string): Promise<StoredResult | null>;
  /** Summaries, newest `createdAt` first; at most `limit` of them. */
  list(options?: { role?: string; limit?: number }): Promise<ResultSummary[]>;
}

/** Persistence of the code registry. `CodeRegistry` holds the logic; this only stores entries. */
export interface RegistryStore {
  /** The entry with this id, or null. */
  get(id: string): Promise<RegistryEntry | null>;
  /** Creates or replaces an entry, atomically, and indexes it under its task key. */
  put(entry: RegistryEntry): Promise<void>;
  /**
   * Read-modify-write of one entry under a lock that holds across processes, so concurrent updates (e.g. success
   * counts from several processes) are never lost. `change` must not change the id. Null when there is no entry.
   */
  update(id: string, change: (entry: RegistryEntry) => RegistryEntry): Promise<RegistryEntry | null>;
  /**
   * {@link update} that also creates: `change` receives the current entry or null, under the same lock. Needed so
   * that two processes registering the same code at once count two successes instead of one overwriting the other.
   */
  upsert(id: string, change: (entry: RegistryEntry | null) => RegistryEntry): Promise<RegistryEntry>;
  /**
   * Every entry of a task key, through an index: cost independent of the registry's size. A damaged index or entry
   * is returned in `damaged` instead of failing the call: a damaged record affects only itself.
   */
  findByTaskKey(taskKey: string): Promise<RegistryScan>;
  /** Every entry, newest first, and the records that could not be read. Scans everything: not for the hot path. */
  list(): Promise<RegistryScan>;
  /** Deletes an entry (and its index reference); false when there was none. */
  remove(id: string): Promise<boolean>;
}

/** Workflow state for resume after a crash: `<root>/workflows/<workflowId>.json` in the file backend. */
export interface WorkflowStore {
  /** The saved state, or null when none was saved. */
  load(workflowId: string): Promise<unknown | null>;
  /** Saves (replaces) the state, atomically. It must be JSON data. Last writer wins: one process owns a workflow. */
  save(workflowId: string, state: unknown): Promise<void>;
  /** Deletes the state; false when there was none. */
  remove(workflowId: string): Promise<boolean>;
}

/** The three stores of one storage root. */
export interface Storage {
  results: ResultStore;
  registry: RegistryStore;
  workflows: WorkflowStore;
}
