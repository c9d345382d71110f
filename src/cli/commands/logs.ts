/** `automesh logs list|show|export`: what agents did, from the result log in the database. */

import { resolve } from 'node:path';
import { exportResults } from '../../storage/index.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, type Io, paint, printJson, println, table, UsageError } from '../io.js';
import { cliSettings, withCliStorage } from '../setup.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh logs <list|show|export> [options]

Read the result log: every task an agent ran, success or failure, with its code, attempts and cost.

  automesh logs list [--role R] [--limit N] [--json]   newest first (default 20)
  automesh logs show <resultId> [--json]               the envelope: output, code, and each attempt with its
                                                        error and the model's raw reply
  automesh logs export [--dir D] [--role R] [--json]   every result as a file D/<role>/<resultId>.json
                                                        (default D: LOG_DIRECTORY)

Options:
  --role R    list (or export) only the results of the agent with role R
  --limit N   list at most N results (default 20)
  --dir D     export: the folder to write into (default LOG_DIRECTORY); a symbolic link planted inside it
              is refused, never written through
  --json      print the stored records as JSON (model-written text as it is; on a terminal, control
              characters in it are shown as escapes such as \\x1b)

Results live in the database LOG_DIRECTORY/automesh.db (default ./logs).`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  role: { type: 'string' },
  limit: { type: 'string', default: '20' },
  dir: { type: 'string' },
} as const;

type StoredAttempt = Record<string, unknown>;

/** One attempt: its outcome, then the model's raw reply when the record has one. */
function printAttempt(io: Io, a: StoredAttempt, index: number): void {
  const outcome = a.error ? `${String(a.errorCategory)}: ${String(a.error).split('\n')[0]}` : 'ok';
  println(io, `attempt ${index + 1}: ${safeText(outcome)} (${String(a.provider ?? 'registry')})`);
  if (typeof a.reply !== 'string') return;
  const truncated = a.replyTruncated === true ? paint(io, 'dim', ' (truncated: the reply was longer)') : '';
  println(io, `  reply:${truncated}`);
  println(
    io,
    safeText(a.reply)
      .split('\n')
      .map((line) => `  | ${line}`)
      .join('\n'),
  );
}

async function list(io: Io, values: { role?: string; limit: string; json: boolean }): Promise<number> {
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a whole number >= 1; got "${values.limit}"`);
  return withCliStorage(io, async ({ results }) => {
    const found = await results.list({ ...(values.role ? { role: values.role } : {}), limit });
    if (values.json) {
      printJson(io, found);
      return 0;
    }
    if (found.length === 0) {
      const any = values.role ? (await results.list({ limit: 1 })).length > 0 : false;
      println(
        io,
        any
          ? `No results of role "${safeText(values.role ?? '')}"; other roles have some (automesh logs list shows them).`
          : 'No results yet: run a task (automesh run or automesh smoketest).',
      );
      return 0;
    }
    println(
      io,
      table(
        ['resultId', 'role', 'status', 'created', 'task'],
        found.map((r) => [
          r.resultId,
          r.role,
          r.status,
          r.createdAt.replace('T', ' ').slice(0, 19),
          safeText(r.task.replace(/\s+/g, ' ').slice(0, 60)),
        ]),
      ),
    );
    return 0;
  });
}

async function show(io: Io, id: string | undefined, json: boolean): Promise<number> {
  if (!id) throw new UsageError('logs show needs a result id', 'automesh logs list shows the ids');
  const stored = await withCliStorage(io, ({ results }) => results.get(id));
  if (!stored) throw new CliError(`no result "${id}"`, [], 'automesh logs list shows the ids');
  if (json) {
    printJson(io, stored);
    return 0;
  }
  const e = stored.envelope as Record<string, unknown> & { attempts?: StoredAttempt[]; tokens?: { total?: number } };
  const status = String(e.status);
  println(
    io,
    `${paint(io, 'bold', stored.resultId)}  ${stored.role}  ${paint(io, status === 'success' ? 'green' : 'red', status)}`,
  );
  println(io, `task:      ${safeText(stored.task)}`);
  println(io, `created:   ${stored.createdAt}`);
  println(io, `output:    ${safeText(JSON.stringify(e.output) ?? 'null')}`);
  if (e.error) println(io, `error:     ${String(e.errorCategory)}: ${safeText(String(e.error))}`);
  println(
    io,
    `repairs:   ${String(e.repairs)}, cached: ${String(e.cached)}, tokens: ${e.tokens?.total ?? 0}, cost: ${e.costUsd === null ? 'unpriced' : `$${Number(e.costUsd).toFixed(6)}`}`,
  );
  println(
    io,
    `provider:  ${String(e.provider ?? '-')} / ${String(e.model ?? '-')}, function ${String(e.functionId ?? '-')}`,
  );
  (e.attempts ?? []).forEach((a, i) => printAttempt(io, a, i));
  if (e.code) println(io, `\n${safeText(String(e.code))}`);
  return 0;
}

async function exportLogs(io: Io, values: { role?: string; dir?: string; json: boolean }): Promise<number> {
  const dir = resolve(io.cwd, values.dir ?? cliSettings(io).settings.LOG_DIRECTORY);
  const report = await withCliStorage(io, ({ results }) =>
    exportResults(results, dir, values.role ? { role: values.role } : {}),
  );
  if (values.json) {
    printJson(io, report);
  } else {
    println(
      io,
      `Exported ${report.written} result${report.written === 1 ? '' : 's'} to ${report.dir}/<role>/<resultId>.json.`,
    );
    for (const d of report.damaged)
      println(io, `${paint(io, 'red', 'damaged')} ${d.role}/${d.resultId} (not exported): ${safeText(d.reason)}`);
  }
  return report.damaged.length > 0 ? 1 : 0;
}

async function run(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseVerbArgs('logs', {
    args: rest,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (action === 'list') {
    if (positionals.length > 0)
      throw new UsageError(`logs list takes no arguments; got ${positionals.join(' ')}`, 'filter with --role R');
    return list(io, values);
  }
  if (action === 'show') return show(io, positionals[0], values.json);
  if (action === 'export') {
    if (positionals.length > 0)
      throw new UsageError(
        `logs export takes no arguments; got ${positionals.join(' ')}`,
        'choose the folder with --dir D',
      );
    return exportLogs(io, values);
  }
  throw new UsageError(
    action && !action.startsWith('-') ? `unknown logs action "${action}"` : 'logs needs an action first',
    'the actions are list, show and export, e.g. automesh logs list --role calculator',
  );
}

export const logsCommand: Command = { name: 'logs', help: HELP, options: OPTIONS, run };
