/**
 * Storage interfaces (DESIGN.md section 6). Everything that persists goes through these; every backend (memory,
 * the embedded database, NATS) passes one conformance suite (`test/storage/conformance.ts`). Errors are
 * `StorageError`s with a backend-neutral `code` (see `./errors.ts`).
 *
 * Secrets: the stores save exactly what they are given. Callers must never pass API keys or other secrets (no
 * settings objects, no request headers, no provider configs): results hold envelopes and prompt hashes, the
 * registry holds generated code, workflows hold step states. Nothing here filters secrets out.
 */
import type { RegistryEntry, RegistryScan } from '../registry/types.js';

export type { RegistryEntry, RegistryScan };

/** One task's stored outcome (exported by `automesh logs export` as `logs/<role>/<resultId>.json`). */
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

/** A stored result that cannot be read (bad JSON, wrong shape): it affects only itself. */
export interface DamagedResult {
  resultId: string;
  role: string;
  /** What is wrong, where it is stored and what to do about it. */
  reason: string;
}

/** What {@link ResultStore.scan} yields: a result, or the report of one that could not be read. */
export type ResultScanItem =
  | { result: StoredResult; damaged?: undefined }
  | { result?: undefined; damaged: DamagedResult };

/** Filters of {@link ResultStore.list} and {@link ResultStore.scan}. */
export interface ResultFilter {
  role?: string;
  /** ISO time: only results created at or after it. */
  since?: string;
}

/** The result log: every task's envelope, success or failure. */
export interface ResultStore {
  /** Stores (or replaces) a result, atomically. `role` and `resultId` must be safe names (see `SAFE_NAME`). */
  save(result: StoredResult): Promise<void>;
  /**
   * The result with this id; with `role`, only that role is searched. Null when there is none; a damaged record
   * throws a `StorageError` with code `damaged` (reading that very record reports it).
   */
  get(resultId: string, role?: string): Promise<StoredResult | null>;
  /**
   * Summaries, newest `createdAt` first; at most `limit` of them. Reads only the summary fields, so a result whose
   * envelope is damaged is still listed (its `get` reports the damage).
   */
  list(options?: ResultFilter & { limit?: number }): Promise<ResultSummary[]>;
  /**
   * Every matching result, oldest first, read in pages (memory stays bounded on a large log): for `automesh logs
   * export`. A damaged record is yielded as `{ damaged }` and the scan goes on.
   */
  scan(options?: ResultFilter): AsyncIterable<ResultScanItem>;
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
  /**
   * Entries whose task text matches `text` (full-text search where the backend has it), best match first, at most
   * `limit`. Damaged records are reported, not thrown.
   */
  search(text: string, options?: { limit?: number }): Promise<RegistryScan>;
}

/** Who runs a workflow: enough for a person to find the process ("held by pid 4242 on build-7 since …"). */
export interface LeaseOwner {
  /** Unique per run (a random id), so a restarted process with a recycled pid is still a different owner. */
  runId: string;
  host: string;
  pid: number;
  /** ISO time the owner first claimed the workflow. */
  since: string;
}

/**
 * A claim on one workflow id. `generation` is the fencing token: it grows by one each time the workflow changes
 * owner, and every write carries the lease, so a holder whose lease was taken over (it stalled past `expiresAt`)
 * has its writes refused with `conflict` instead of overwriting the new owner's state.
 */
export interface WorkflowLease {
  workflowId: string;
  owner: LeaseOwner;
  generation: number;
  /** Epoch milliseconds after which another run may take the workflow over. */
  expiresAt: number;
}

export type WorkflowStatus = 'running' | 'finished' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'success' | 'failure' | 'skipped';

/** One line of {@link WorkflowHeader.plan}. */
export interface PlannedStepLine {
  stepId: string;
  role: string;
  dependsOn: string[];
}

/** The small part of a workflow's state: written when the run starts and ends, never per step. */
export interface WorkflowHeader {
  workflowId: string;
  status: WorkflowStatus;
  /** Step ids in step order. */
  stepIds: string[];
  /**
   * Each step's role and the steps it waits for, in step order, as the run planned them: the workflow's graph,
   * known before any step started (the dashboard draws it). Absent on headers written before it was recorded.
   */
  plan?: PlannedStepLine[];
  startedAt: string;
  updatedAt: string;
}

/** One step's state: written when the step starts and when it ends; holds its envelope (up to ~1 MiB) once it ended. */
export interface StepRecord {
  stepId: string;
  index: number;
  role: string;
  task: string;
  /** Hash of the step's spec; a changed spec is run again on resume. */
  specHash: string;
  status: StepStatus;
  /** The step's envelope (JSON data) once it ended; null before. Its `logs` are bounded by the engine. */
  envelope: Record<string, unknown> | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A record of a workflow that could not be read: it affects only itself (that step runs again). */
export interface DamagedWorkflowRecord {
  kind: 'header' | 'step';
  /** The workflow id, or the step id. */
  id: string;
  reason: string;
}

/** What {@link WorkflowStore.load} read. */
export interface WorkflowSnapshot {
  header: WorkflowHeader | null;
  steps: StepRecord[];
  damaged: DamagedWorkflowRecord[];
}

/** What {@link WorkflowStore.list} read: headers newest `startedAt` first, and the headers that could not be read. */
export interface WorkflowListing {
  headers: WorkflowHeader[];
  damaged: DamagedWorkflowRecord[];
}

/**
 * Workflow state, per step, with an owner. A run first {@link claim}s the workflow id, renews the lease while it
 * runs and releases it at the end; every write is fenced by the lease's generation.
 */
export interface WorkflowStore {
  /**
   * Takes the workflow for `owner` for `ttlMs`: succeeds when nobody holds it, when the lease expired (the generation
   * then grows by one) or when `owner.runId` already holds it. Otherwise throws a `StorageError` with code `locked`
   * whose `holder` is the current lease and whose message names host, pid and since.
   */
  claim(workflowId: string, owner: LeaseOwner, ttlMs: number): Promise<WorkflowLease>;
  /** Extends a held lease; throws `conflict` when it is no longer this lease's (taken over after expiring). */
  renew(lease: WorkflowLease, ttlMs: number): Promise<WorkflowLease>;
  /** Gives the workflow up (no error if it was already taken over). */
  release(lease: WorkflowLease): Promise<void>;
  /** The current lease, expired or not; null when none was ever taken or it was released. */
  holder(workflowId: string): Promise<WorkflowLease | null>;
  /**
   * The headers of the stored workflows, newest `startedAt` first, at most `limit` (for dashboards: it reads every
   * header, not for the hot path). A header that cannot be read is reported in `damaged`, not thrown.
   */
  list(options?: { limit?: number }): Promise<WorkflowListing>;
  /** Everything stored for the workflow; null when nothing is. */
  load(workflowId: string): Promise<WorkflowSnapshot | null>;
  /** Writes the header; `conflict` when `lease` is not the current one. */
  saveHeader(lease: WorkflowLease, header: WorkflowHeader): Promise<void>;
  /** Writes one step's record; `conflict` when `lease` is not the current one. */
  saveStep(lease: WorkflowLease, step: StepRecord): Promise<void>;
  /** Deletes a workflow's header and steps (not a live lease's holder check: callers use it on finished runs). */
  remove(workflowId: string): Promise<boolean>;
}

/** The three stores of one storage backend. */
export interface Storage {
  results: ResultStore;
  registry: RegistryStore;
  workflows: WorkflowStore;
  /** Where the data lives, for messages (e.g. `/srv/logs/automesh.db`, `memory`). */
  readonly location: string;
  /** Closes connections and file handles. A storage passed to `new Mesh({ storage })` is closed by its owner, not the mesh. */
  close(): Promise<void>;
}
