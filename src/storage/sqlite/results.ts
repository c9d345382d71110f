/** The result log in the database: one row per task, its summary in columns, its record as JSON text. */
import { assertRoleName, assertSafeName } from '../names.js';
import { assertLimit, decodeResult, instantOf, reasonOf, resultText, sinceMs, summaryOf } from '../records.js';
import type { ResultFilter, ResultScanItem, ResultStore, ResultSummary, StoredResult } from '../types.js';
import type { SqliteDatabase } from './database.js';

interface SummaryRow {
  result_id: string;
  role: string;
  task: string;
  status: string;
  created_at: string;
}

interface BodyRow {
  result_id: string;
  role: string;
  body: string;
  created_ms: number;
}

/** Rows a scan reads at a time. */
const SCAN_PAGE = 200;

const SAVE = `INSERT INTO results (role, result_id, task, status, created_at, created_ms, body) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (role, result_id) DO UPDATE SET task = excluded.task, status = excluded.status, created_at = excluded.created_at,
  created_ms = excluded.created_ms, body = excluded.body`;

export class SqliteResultStore implements ResultStore {
  constructor(private readonly database: SqliteDatabase) {}

  async save(result: StoredResult): Promise<void> {
    const body = resultText(result);
    const s = summaryOf(result);
    const run = this.database.statement(SAVE);
    await this.database.write(`save result ${result.resultId}`, () =>
      run.run(s.role, s.resultId, s.task, s.status, s.createdAt, instantOf(s.createdAt), body),
    );
  }

  async get(resultId: string, role?: string): Promise<StoredResult | null> {
    assertSafeName('result id', resultId);
    const row = this.database.run(
      `read result ${resultId}`,
      () =>
        (role === undefined
          ? this.database.statement('SELECT body FROM results WHERE result_id = ? ORDER BY role LIMIT 1').get(resultId)
          : this.database
              .statement('SELECT body FROM results WHERE role = ? AND result_id = ?')
              .get(assertRoleName(role), resultId)) as { body: string } | undefined,
    );
    return row ? decodeResult(row.body, resultId, this.database.file) : null;
  }

  async list(options: ResultFilter & { limit?: number } = {}): Promise<ResultSummary[]> {
    assertLimit('list()', options.limit);
    const { where, params } = filterOf(options);
    const sql = `SELECT result_id, role, task, status, created_at FROM results ${where} ORDER BY created_ms DESC, result_id DESC LIMIT ?`;
    const rows = this.database.run(
      'list results',
      () => this.database.statement(sql).all(...params, options.limit ?? -1) as SummaryRow[],
    );
    return rows.map((r) => ({
      resultId: r.result_id,
      role: r.role,
      task: r.task,
      status: r.status,
      createdAt: r.created_at,
    }));
  }

  async *scan(options: ResultFilter = {}): AsyncIterable<ResultScanItem> {
    const { where, params } = filterOf(options);
    const after = `${where ? `${where} AND` : 'WHERE'} (created_ms, role, result_id) > (?, ?, ?)`;
    const sql = `SELECT result_id, role, body, created_ms FROM results ${after} ORDER BY created_ms, role, result_id LIMIT ${SCAN_PAGE}`;
    let cursor: [number, string, string] = [Number.MIN_SAFE_INTEGER, '', ''];
    for (;;) {
      const page = this.database.run(
        'scan results',
        () => this.database.statement(sql).all(...params, ...cursor) as BodyRow[],
      );
      for (const row of page) {
        try {
          yield { result: decodeResult(row.body, row.result_id, this.database.file) };
        } catch (error) {
          yield { damaged: { resultId: row.result_id, role: row.role, reason: reasonOf(error) } };
        }
      }
      if (page.length < SCAN_PAGE) return;
      const last = page[page.length - 1] as BodyRow;
      cursor = [last.created_ms, last.role, last.result_id];
    }
  }
}

function filterOf(options: ResultFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (options.role !== undefined) {
    clauses.push('role = ?');
    params.push(assertRoleName(options.role));
  }
  const since = sinceMs(options.since);
  if (since !== undefined) {
    clauses.push('created_ms >= ?');
    params.push(since);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
