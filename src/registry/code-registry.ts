/**
 * The code registry: code that solved a task, remembered so the same task later runs with no LLM call.
 *
 * Flow: after generated code succeeds, the agent calls {@link CodeRegistry.register}. Before asking the LLM, it
 * calls {@link CodeRegistry.lookup} (when `REGISTRY_REUSE` is on; the setting is the caller's to check) and, on a
 * hit, runs the entry's code and reports the outcome with `recordSuccess` / `recordFailure`. Failures push an entry
 * back to `candidate`, where lookups no longer return it.
 */
import type { RegistryStore } from '../storage/types.js';
import { type CodeDependencies, dependencyHash } from './dependencies.js';
import { stageOf } from './stage.js';
import { functionId, normalizeTask, taskKey } from './task-key.js';
import type { DamagedRecord, RegistryEntry, Stage } from './types.js';

/**
 * What {@link CodeRegistry.register} needs. The dependency hashes (`codeDependencies()`) say what the code was
 * written for: system prompt, context shape, tools, output schema.
 */
export interface RegisterInput extends CodeDependencies {
  role: string;
  task: string;
  capabilities: readonly string[];
  /** The code that succeeded. It must not contain secrets: it is stored as is. */
  code: string;
  provenance: { provider: string | null; model: string | null; resultId: string | null };
}

/** Options of {@link CodeRegistry.register}. */
export interface RegisterOptions {
  /** Register only once this resolves (e.g. the task's result-log write); not at all if it rejects. */
  after?: Promise<unknown>;
}

/** What {@link CodeRegistry.lookup} matches on: role, normalized task and every dependency hash. */
export interface LookupInput extends CodeDependencies {
  role: string;
  task: string;
}

/** Options of {@link CodeRegistry.lookup}. */
export interface LookupOptions {
  /** Called for each record the lookup could not read; the lookup goes on without it. */
  onDamaged?: (record: DamagedRecord) => void;
}

/** {@link CodeRegistry.list}: the entries, plus the records that could not be read (whatever the filter). */
export type RegistryListing = RegistryEntry[] & { damaged: DamagedRecord[] };

const DEPENDENCY_FIELDS = ['systemPromptHash', 'contextShapeHash', 'toolsHash', 'outputSchemaHash'] as const;

function keyOf(input: Pick<LookupInput, 'role' | 'task' | keyof CodeDependencies>): string {
  return taskKey(input.role, input.task, dependencyHash(input));
}

/** A {@link CodeRegistry.search} hit; higher `score` is a better match. */
export interface SearchHit {
  entry: RegistryEntry;
  score: number;
}

/** Longest failure message kept on an entry; it is for diagnosis, the full text is in the result log. */
export const MAX_ERROR_LENGTH = 2000;

/** Code registry over any {@link RegistryStore}. Instances hold no state: several may share one store. */
export class CodeRegistry {
  /** Writes still in flight. Reads wait for them, so this process always reads its own writes. */
  private readonly writes = new Set<Promise<unknown>>();
  /** The subset that can change what `lookup` returns (a new entry, a failure that demotes one). */
  private readonly lookupWrites = new Set<Promise<unknown>>();

  constructor(readonly store: RegistryStore) {}

  private track<T>(write: Promise<T>, affectsLookup: boolean): Promise<T> {
    this.writes.add(write);
    if (affectsLookup) this.lookupWrites.add(write);
    const forget = (): void => {
      this.writes.delete(write);
      this.lookupWrites.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  /** Resolves once every write this registry started has landed (or failed). */
  async settled(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /** The id `register` gives this code for this task, known before the write lands. */
  static idFor(input: Pick<RegisterInput, 'role' | 'task' | 'code' | keyof CodeDependencies>): string {
    return functionId(keyOf(input), input.code);
  }

  /**
   * Registers code that just succeeded for a task. New code becomes an entry with one success (`verified`); code
   * already registered for the same task key counts one more success. Safe against concurrent registrations of the
   * same code by several processes (each one counts). With `after`, the write waits for that promise and is not
   * made if it rejects (the pipeline passes the result-log write: code whose result was not stored is never
   * registered); lookups in this process wait for it meanwhile.
   */
  async register(input: RegisterInput, options: RegisterOptions = {}): Promise<RegistryEntry> {
    requireText('role', input.role);
    requireText('task', input.task);
    for (const field of DEPENDENCY_FIELDS) requireString(field, input[field]);
    requireText('code', input.code);
    if (!Array.isArray(input.capabilities) || input.capabilities.some((c) => typeof c !== 'string')) {
      throw new TypeError('register(): capabilities must be an array of strings');
    }
    const key = keyOf(input);
    const id = functionId(key, input.code);
    const upsert = (): Promise<RegistryEntry> =>
      this.store.upsert(id, (current) => {
        const now = new Date().toISOString();
        if (current) return counted(current, { successCount: current.successCount + 1, lastUsedAt: now });
        return {
          id,
          role: input.role,
          task: input.task,
          normalizedTask: normalizeTask(input.task),
          taskKey: key,
          systemPromptHash: input.systemPromptHash,
          contextShapeHash: input.contextShapeHash,
          toolsHash: input.toolsHash,
          outputSchemaHash: input.outputSchemaHash,
          capabilities: [...input.capabilities],
          code: input.code,
          provenance: {
            provider: input.provenance?.provider ?? null,
            model: input.provenance?.model ?? null,
            resultId: input.provenance?.resultId ?? null,
            createdAt: now,
          },
          successCount: 1,
          failureCount: 0,
          stage: stageOf(1, 0),
          lastUsedAt: now,
          lastError: null,
        };
      });
    const after = options.after;
    if (!after) return this.track(upsert(), true);
    return this.track(
      after.then(upsert, (error: unknown) => {
        throw new Error(
          `Function ${id} was not registered: its result was not stored `
            + `(${error instanceof Error ? error.message : String(error)}).`,
          { cause: error },
        );
      }),
      true,
    );
  }

  /**
   * The best reusable entry for a task, or null: same role, same normalized task, same dependency hashes (system
   * prompt, context shape, tools, output schema), stage `verified` or `golden`. Prefers golden, then more
   * successes, then the newest. Reads only the entries of the task's key (`findByTaskKey`: an indexed column in the
   * database, a key prefix on NATS KV), so it stays fast however large the registry grows. A damaged entry or index
   * reference is reported to `onDamaged` and skipped: it affects this lookup only.
   */
  async lookup(input: LookupInput, options: LookupOptions = {}): Promise<RegistryEntry | null> {
    while (this.lookupWrites.size > 0) await Promise.allSettled([...this.lookupWrites]);
    const normalized = normalizeTask(input.task);
    const { entries: candidates, damaged } = await this.store.findByTaskKey(keyOf(input));
    for (const record of damaged) options.onDamaged?.(record);
    let best: RegistryEntry | null = null;
    for (const entry of candidates) {
      // The key already implies these; checking them again costs nothing and guards against a hand-edited index.
      if (
        entry.stage === 'candidate'
        || entry.role !== input.role
        || entry.normalizedTask !== normalized
        || DEPENDENCY_FIELDS.some((field) => entry[field] !== input[field])
      )
        continue;
      if (!best || compareForReuse(entry, best) < 0) best = entry;
    }
    return best;
  }

  /** Counts a success of an entry's code (e.g. after a registry hit ran well); null if there is no such entry. */
  async recordSuccess(id: string): Promise<RegistryEntry | null> {
    const now = new Date().toISOString();
    // A success never removes an entry from reuse, so lookups need not wait for it.
    return this.track(
      this.store.update(id, (entry) => counted(entry, { successCount: entry.successCount + 1, lastUsedAt: now })),
      false,
    );
  }

  /**
   * Counts a failure and keeps its message. The stage is recomputed: once failures catch up with successes the
   * entry becomes `candidate` and lookups stop returning it. Null if there is no such entry.
   */
  async recordFailure(id: string, error: string): Promise<RegistryEntry | null> {
    const now = new Date().toISOString();
    const message = String(error);
    const lastError = message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
    return this.track(
      this.store.update(id, (entry) =>
        counted(entry, { failureCount: entry.failureCount + 1, lastUsedAt: now, lastError }),
      ),
      true,
    );
  }

  /** The entry with this id, or null. */
  async get(id: string): Promise<RegistryEntry | null> {
    if (this.writes.size > 0) await this.settled();
    return this.store.get(id);
  }

  /**
   * Every entry (newest first), optionally only of one role and/or stage. Records that cannot be read do not fail
   * the listing: they are in its `damaged` list (whatever the filter: their role and stage cannot be read).
   */
  async list(filter: { role?: string; stage?: Stage } = {}): Promise<RegistryListing> {
    if (this.writes.size > 0) await this.settled();
    const { entries, damaged } = await this.store.list();
    const wanted = entries.filter(
      (e) =>
        (filter.role === undefined || e.role === filter.role)
        && (filter.stage === undefined || e.stage === filter.stage),
    );
    return Object.assign(wanted, { damaged });
  }

  /**
   * Entries matching the words of `text`, best first. Each query word scores 3 when it is a word of the task
   * (1 when it only starts one), 2 when it is the role or a capability, 1 when it appears as a word in the code;
   * the whole query found in the normalized task adds 5. Ties go to the entry with more successes, then the newer.
   * Candidates come from the store's search (full-text in the database): meant for people browsing
   * (`automesh registry search`), not for the hot path.
   */
  async search(text: string, options: { limit?: number } = {}): Promise<SearchHit[]> {
    if (this.writes.size > 0) await this.settled();
    const limit = options.limit ?? 20;
    const terms = [...new Set(words(text))];
    if (terms.length === 0 || limit <= 0) return [];
    const phrase = normalizeTask(text);
    const hits: SearchHit[] = [];
    for (const entry of (await this.store.search(text)).entries) {
      const taskWords = new Set(words(entry.task));
      const codeWords = new Set(words(entry.code));
      const labels = new Set([...words(entry.role), ...entry.capabilities.flatMap(words)]);
      let score = 0;
      for (const term of terms) {
        if (taskWords.has(term)) score += 3;
        else if ([...taskWords].some((w) => w.startsWith(term))) score += 1;
        if (labels.has(term)) score += 2;
        if (codeWords.has(term)) score += 1;
      }
      if (score > 0 && phrase.length > 0 && entry.normalizedTask.includes(phrase)) score += 5;
      if (score > 0) hits.push({ entry, score });
    }
    hits.sort(
      (a, b) => b.score - a.score || b.entry.successCount - a.entry.successCount || compareNewest(a.entry, b.entry),
    );
    return hits.slice(0, limit);
  }

  /** Entries registered by agents with this capability (case-insensitive), newest first. */
  async byCapability(capability: string): Promise<RegistryEntry[]> {
    if (this.writes.size > 0) await this.settled();
    const wanted = capability.trim().toLowerCase();
    return (await this.store.list()).entries.filter((e) =>
      e.capabilities.some((c) => c.trim().toLowerCase() === wanted),
    );
  }

  /** Deletes an entry; false when there was none. */
  async remove(id: string): Promise<boolean> {
    if (this.writes.size > 0) await this.settled();
    return this.store.remove(id);
  }
}

/** The entry with changed counts and its stage recomputed from them. */
function counted(entry: RegistryEntry, change: Partial<RegistryEntry>): RegistryEntry {
  const next = { ...entry, ...change };
  return { ...next, stage: stageOf(next.successCount, next.failureCount) };
}

const STAGE_RANK: Record<Stage, number> = { golden: 0, verified: 1, candidate: 2 };

/** Negative when `a` should be reused rather than `b`. */
function compareForReuse(a: RegistryEntry, b: RegistryEntry): number {
  return STAGE_RANK[a.stage] - STAGE_RANK[b.stage] || b.successCount - a.successCount || compareNewest(a, b);
}

function compareNewest(a: RegistryEntry, b: RegistryEntry): number {
  const ta = Date.parse(a.provenance.createdAt);
  const tb = Date.parse(b.provenance.createdAt);
  if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return tb - ta;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Lower-case words (letters, digits, `_`) of a text; identifiers in code split at camelCase humps too. */
function words(text: string): string[] {
  const found: string[] = [];
  for (const token of text.normalize('NFC').match(/[\p{L}\p{N}_]+/gu) ?? []) {
    found.push(token.toLowerCase());
    const parts = token.split(/(?<=\p{Ll})(?=\p{Lu})|_/u).filter(Boolean);
    if (parts.length > 1) for (const part of parts) found.push(part.toLowerCase());
  }
  return found;
}

function requireString(name: string, value: unknown): void {
  if (typeof value !== 'string') throw new TypeError(`register(): ${name} must be a string`);
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(`register(): ${name} must be a non-empty string`);
}
