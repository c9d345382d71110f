/** `automesh logs list|show`: what agents did, from the result logs. */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { paint, printJson, println, table, UsageError, type Io } from '../io.js';
import { cliSettings, cliStorage } from '../setup.js';

const HELP = `Usage: automesh logs <list|show> [options]

Read the result log: every task an agent ran, success or failure, with its code, attempts and cost.

  automesh logs list [--role R] [--limit N] [--json]   newest first (default 20)
  automesh logs show <resultId> [--json]               the envelope: output, code, attempts, errors

Results live under LOG_DIRECTORY/<role>/<resultId>.json (default ./logs).`;

async function run(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, role: { type: 'string' }, limit: { type: 'string', default: '20' } },
  });
  const { settings } = cliSettings(io);
  const { results } = cliStorage(settings, io);
  if (action === 'list') {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number >= 1.');
    const list = await results.list({ ...(values.role ? { role: values.role } : {}), limit });
    if (values.json) {
      printJson(io, list);
      return 0;
    }
    if (list.length === 0) {
      println(io, 'No results yet: run a task (automesh run or automesh smoketest).');
      return 0;
    }
    println(io, table(['resultId', 'role', 'status', 'created', 'task'],
      list.map((r) => [r.resultId, r.role, r.status, r.createdAt.replace('T', ' ').slice(0, 19), r.task.replace(/\s+/g, ' ').slice(0, 60)])));
    return 0;
  }
  if (action === 'show') {
    const id = positionals[0];
    if (!id) throw new UsageError('logs show needs a result id (see automesh logs list).');
    const stored = await results.get(id);
    if (!stored) {
      println(io, `No result "${id}". See automesh logs list.`);
      return 1;
    }
    if (values.json) {
      printJson(io, stored);
      return 0;
    }
    const e = stored.envelope as Record<string, unknown> & { attempts?: Array<Record<string, unknown>>; tokens?: { total?: number } };
    const status = String(e.status);
    println(io, `${paint(io, 'bold', stored.resultId)}  ${stored.role}  ${paint(io, status === 'success' ? 'green' : 'red', status)}`);
    println(io, `task:      ${stored.task}`);
    println(io, `created:   ${stored.createdAt}`);
    println(io, `output:    ${JSON.stringify(e.output)}`);
    if (e.error) println(io, `error:     ${String(e.errorCategory)}: ${String(e.error)}`);
    println(io, `repairs:   ${String(e.repairs)}, cached: ${String(e.cached)}, tokens: ${e.tokens?.total ?? 0}, cost: ${e.costUsd === null ? 'unpriced' : `$${Number(e.costUsd).toFixed(6)}`}`);
    println(io, `provider:  ${String(e.provider ?? '-')} / ${String(e.model ?? '-')}, function ${String(e.functionId ?? '-')}`);
    (e.attempts ?? []).forEach((a, i) => {
      println(io, `attempt ${i + 1}: ${a.error ? `${String(a.errorCategory)}: ${String(a.error).split('\n')[0]}` : 'ok'} (${String(a.provider ?? 'registry')})`);
    });
    if (e.code) println(io, `\n${String(e.code)}`);
    return 0;
  }
  throw new UsageError(action ? `Unknown logs action "${action}".` : 'logs needs an action: list or show.');
}

export const logsCommand: Command = { name: 'logs', summary: 'list or show the results of tasks', help: HELP, run };
