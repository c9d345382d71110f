/** Result log in memory: for tests and throwaway runs. Records are kept as JSON text, so callers never share objects with the store. */
import { assertRoleName, assertSafeName } from '../names.js';
import {
  assertLimit,
  compareTimesDesc,
  decodeResult,
  instantOf,
  reasonOf,
  resultText,
  sinceMs,
  summaryOf,
} from '../records.js';
import type { ResultFilter, ResultScanItem, ResultStore, ResultSummary, StoredResult } from '../types.js';

/** One stored result: its summary fields beside its text (a listing never decodes the text). */
export interface MemoryResultRow {
  summary: ResultSummary;
  text: string;
}

const keyOf = (role: string, resultId: string): string => `${role}/${resultId}`;

export class MemoryResultStore implements ResultStore {
  /** `rows` may be shared by several stores (as several processes share a database file). */
  constructor(private readonly rows: Map<string, MemoryResultRow> = new Map()) {}

  async save(result: StoredResult): Promise<void> {
    const text = resultText(result);
    this.rows.set(keyOf(result.role, result.resultId), { summary: summaryOf(result), text });
  }

  async get(resultId: string, role?: string): Promise<StoredResult | null> {
    assertSafeName('result id', resultId);
    if (role !== undefined) {
      const row = this.rows.get(keyOf(assertRoleName(role), resultId));
      return row ? decodeResult(row.text, resultId, 'memory') : null;
    }
    const found = [...this.rows.values()]
      .filter((r) => r.summary.resultId === resultId)
      .sort((a, b) => (a.summary.role < b.summary.role ? -1 : 1))[0];
    return found ? decodeResult(found.text, resultId, 'memory') : null;
  }

  async list(options: ResultFilter & { limit?: number } = {}): Promise<ResultSummary[]> {
    assertLimit('list()', options.limit);
    const all = this.matching(options)
      .map((r) => ({ ...r.summary }))
      .sort(
        (a, b) =>
          compareTimesDesc(a.createdAt, b.createdAt)
          || (a.resultId < b.resultId ? 1 : a.resultId > b.resultId ? -1 : 0),
      );
    return options.limit === undefined ? all : all.slice(0, options.limit);
  }

  async *scan(options: ResultFilter = {}): AsyncIterable<ResultScanItem> {
    const rows = this.matching(options).sort((a, b) => -compareTimesDesc(a.summary.createdAt, b.summary.createdAt));
    for (const row of rows) {
      try {
        yield { result: decodeResult(row.text, row.summary.resultId, 'memory') };
      } catch (error) {
        yield { damaged: { resultId: row.summary.resultId, role: row.summary.role, reason: reasonOf(error) } };
      }
    }
  }

  private matching(options: ResultFilter): MemoryResultRow[] {
    const role = options.role === undefined ? undefined : assertRoleName(options.role);
    const since = sinceMs(options.since);
    return [...this.rows.values()].filter(
      (r) =>
        (role === undefined || r.summary.role === role)
        && (since === undefined || instantOf(r.summary.createdAt) >= since),
    );
  }
}
