/** `automesh logs list|show`: what agents did, from the result logs. */
import type { Command } from '../command.js';
import { parseVerbArgs } from '../args.js';
import { CliError, paint, printJson, println, table, UsageError, type Io } from '../io.js';
import { cliSettings, cliStorage } from '../setup.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh logs <list|show> [options]

Read the result log: every task an agent ran, success or failure, with its code, attempts and cost.

  automesh logs list [--role R] [--limit N] [--json]   newest first (default 20)
  automesh logs show <resultId> [--json]               the envelope: output, code, and each attempt with its
                                                        error and the model's raw reply

Options:
  --role R    list only the results of the agent with role R
  --limit N   list at most N results (default 20)
  --json      print the stored records as JSON (model-written text as it is; on a terminal, control
              characters in it are shown as escapes such as \\x1b)

Results live under LOG_DIRECTORY/<role>/<resultId>.json (default ./logs).`;

const OPTIONS = { json: { type: 'boolean', default: false }, role: { type: 'string' }, limit: { type: 'string', default: '20' } } as const;

type StoredAttempt = Record<string, unknown>;

/** One attempt: its outcome, then the model's raw reply when the record has one. */
function printAttempt(io: Io, a: StoredAttempt, index: number): void {
  const outcome = a.error ? `${String(a.errorCategory)}: ${String(a.error).split('\n')[0]}` : 'ok';
  println(io, `attempt ${index + 1}: ${safeText(outcome)} (${String(a.provider ?? 'registry')})`);
  if (typeof a.reply !== 'string') return;
  const truncated = a.replyTruncated === true ? paint(io, 'dim', ' (truncated: the reply was longer)') : '';
  println(io, `  reply:${truncated}`);
  println(io, safeText(a.reply).split('\n').map((line) => `  | ${line}`).join('\n'));
}

async function list(io: Io, values: { role?: string; limit: string; json: boolean }): Promise<number> {
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a whole number >= 1; got "${values.limit}"`);
  const { results } = cliStorage(cliSettings(io).settings, io);
  const found = await results.list({ ...(values.role ? { role: values.role } : {}), limit });
  if (values.json) {
    printJson(io, found);
    return 0;
  }
  if (found.length === 0) {
    const any = values.role ? (await results.list({ limit: 1 })).length > 0 : false;
    println(io, any
      ? `No results of role "${safeText(values.role ?? '')}"; other roles have some (automesh logs list shows them).`
      : 'No results yet: run a task (automesh run or automesh smoketest).');
    return 0;
  }
  println(io, table(['resultId', 'role', 'status', 'created', 'task'],
    found.map((r) => [r.resultId, r.role, r.status, r.createdAt.replace('T', ' ').slice(0, 19), safeText(r.task.replace(/\s+/g, ' ').slice(0, 60))])));
  return 0;
}

async function show(io: Io, id: string | undefined, json: boolean): Promise<number> {
  if (!id) throw new UsageError('logs show needs a result id', 'automesh logs list shows the ids');
  const { results } = cliStorage(cliSettings(io).settings, io);
  const stored = await results.get(id);
  if (!stored) throw new CliError(`no result "${id}"`, [], 'automesh logs list shows the ids');
  if (json) {
    printJson(io, stored);
    return 0;
  }
  const e = stored.envelope as Record<string, unknown> & { attempts?: StoredAttempt[]; tokens?: { total?: number } };
  const status = String(e.status);
  println(io, `${paint(io, 'bold', stored.resultId)}  ${stored.role}  ${paint(io, status === 'success' ? 'green' : 'red', status)}`);
  println(io, `task:      ${safeText(stored.task)}`);
  println(io, `created:   ${stored.createdAt}`);
  println(io, `output:    ${safeText(JSON.stringify(e.output) ?? 'null')}`);
  if (e.error) println(io, `error:     ${String(e.errorCategory)}: ${safeText(String(e.error))}`);
  println(io, `repairs:   ${String(e.repairs)}, cached: ${String(e.cached)}, tokens: ${e.tokens?.total ?? 0}, cost: ${e.costUsd === null ? 'unpriced' : `$${Number(e.costUsd).toFixed(6)}`}`);
  println(io, `provider:  ${String(e.provider ?? '-')} / ${String(e.model ?? '-')}, function ${String(e.functionId ?? '-')}`);
  (e.attempts ?? []).forEach((a, i) => printAttempt(io, a, i));
  if (e.code) println(io, `\n${safeText(String(e.code))}`);
  return 0;
}

async function run(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseVerbArgs('logs', {
    args: rest,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (action === 'list') {
    if (positionals.length > 0) throw new UsageError(`logs list takes no arguments; got ${positionals.join(' ')}`, 'filter with --role R');
    return list(io, values);
  }
  if (action === 'show') return show(io, positionals[0], values.json);
  throw new UsageError(action && !action.startsWith('-') ? `unknown logs action "${action}"` : 'logs needs an action first',
    'the actions are list and show, e.g. automesh logs list --role calculator');
}

export const logsCommand: Command = { name: 'logs', help: HELP, options: OPTIONS, run };
