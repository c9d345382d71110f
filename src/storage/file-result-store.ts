/**
 * Result log on files: `<root>/<role>/<resultId>.json`, one file per task, written atomically.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { assertRoleName, assertSafeName, RESERVED_ROLE_NAMES, SAFE_NAME } from './names.js';
import { compareTimesDesc, mapLimit, readdirOrEmpty, readJson, writeJson } from './json-file.js';
import { decodeStoredResult, storedResultSchema } from './schemas.js';
import { instantOf, reasonOf, sinceMs } from './records.js';
import type { ResultFilter, ResultScanItem, ResultStore, ResultSummary, StoredResult } from './types.js';

const ADVICE = 'only this one result is lost from the log.';

/** How many files a scan reads at once. */
const SCAN_CONCURRENCY = 32;

/**
 * {@link ResultStore} on files under `root` (normally `LOG_DIRECTORY`). Results need no lock: each result id is
 * written by one task, and the atomic rename keeps concurrent readers and writers safe.
 */
export class FileResultStore implements ResultStore {
  /** Absolute storage root. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private file(role: string, resultId: string): string {
    return join(this.root, assertRoleName(role), `${assertSafeName('result id', resultId)}.json`);
  }

  async save(result: StoredResult): Promise<void> {
    const path = this.file(result.role, result.resultId);
    const checked = storedResultSchema.safeParse(result);
    if (!checked.success) {
      throw new TypeError(`Cannot save result ${result.resultId}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    await writeJson(path, result);
  }

  async get(resultId: string, role?: string): Promise<StoredResult | null> {
    assertSafeName('result id', resultId);
    const roles = role === undefined ? await this.roles() : [assertRoleName(role)];
    for (const r of roles) {
      const found = await readJson(this.file(r, resultId), decodeStoredResult, ADVICE);
      if (found) return found;
    }
    return null;
  }

  async list(options: { role?: string; limit?: number } = {}): Promise<ResultSummary[]> {
    const { limit } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new RangeError(`list(): limit must be a whole number >= 0, got ${limit}`);
    }
    const roles = options.role === undefined ? await this.roles() : [assertRoleName(options.role)];
    const files: string[] = [];
    for (const role of roles) {
      for (const name of await readdirOrEmpty(join(this.root, role))) {
        // Skips temporary files of writes in progress (`<name>.json.<pid>.<n>.tmp`) and anything not ours.
        if (name.endsWith('.json') && SAFE_NAME.test(name.slice(0, -5))) files.push(join(this.root, role, name));
      }
    }
    let candidates = files;
    if (limit !== undefined && files.length > limit) {
      // A result file is written once, when its task ends, so modification time follows createdAt closely. Reading
      // only the newest files by mtime (with a margin for tasks that ran in parallel) keeps `logs list` fast on a
      // large log; the final order is by createdAt.
      const times = await mapLimit(files, SCAN_CONCURRENCY, async (path) => ({ path, mtime: (await stat(path)).mtimeMs }));
      candidates = times.sort((a, b) => b.mtime - a.mtime).slice(0, limit * 2 + 16).map((t) => t.path);
    }
    const read = await mapLimit(candidates, SCAN_CONCURRENCY, (path) => readJson(path, decodeStoredResult, ADVICE));
    const summaries = read.filter((r): r is StoredResult => r !== null).map((r) => ({
      resultId: r.resultId,
      role: r.role,
      task: r.task,
      status: typeof r.envelope.status === 'string' ? r.envelope.status : 'unknown',
      createdAt: r.createdAt,
    }));
    summaries.sort((a, b) => compareTimesDesc(a.createdAt, b.createdAt) || compareDesc(a.resultId, b.resultId));
    return limit === undefined ? summaries : summaries.slice(0, limit);
  }

  /** Every result, oldest first: the file backend lists them all, then reads each. */
  async *scan(options: ResultFilter = {}): AsyncIterable<ResultScanItem> {
    const since = sinceMs(options.since);
    const summaries = (await this.list(options.role === undefined ? {} : { role: options.role }))
      .filter((s) => since === undefined || instantOf(s.createdAt) >= since).reverse();
    for (const s of summaries) {
      try {
        const result = await this.get(s.resultId, s.role);
        if (result) yield { result };
      } catch (error) {
        yield { damaged: { resultId: s.resultId, role: s.role, reason: reasonOf(error) } };
      }
    }
  }

  /** Role directories under the root (the registry's and workflows' directories are not roles). */
  private async roles(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return entries
      .filter((e) => e.isDirectory() && SAFE_NAME.test(e.name) && !RESERVED_ROLE_NAMES.has(e.name.toLowerCase()))
      .map((e) => e.name)
      .sort();
  }
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
