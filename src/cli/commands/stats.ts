/** `automesh stats`: what the agents did and cost, summed from the result log in the database. */
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { type Io, paint, printJson, println, table, UsageError } from '../io.js';
import { withCliStorage } from '../setup.js';
import { parseSince } from '../since.js';
import { StatsCollector, type StatsReport } from '../stats-report.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh stats [--since 1d] [--json]

Sum up the result log: tasks, success rate, first-try success, repairs, registry hits, tokens and cost, by
agent and by model.

Options:
  --since T   only results created in the last T (30m, 12h, 1d, 2w) or since a date (2026-12-01,
              2026-12-01T08:00Z); default: every result
  --json      print the report as JSON

Rates: success = succeeded / tasks; first try = tasks whose first code worked / tasks that asked a model (registry
hits excluded). A model's cost is that of the tasks it gave the last reply of.
Results live in the database LOG_DIRECTORY/automesh.db (default ./logs).`;

const OPTIONS = {
  since: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const percent = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const usd = (value: number): string => `$${value.toFixed(4)}`;

function printReport(io: Io, report: StatsReport): void {
  const scope = report.since ? ` since ${report.since}` : '';
  if (report.tasks === 0) {
    println(io, `No results${scope}: run a task (automesh run or automesh smoketest), or widen --since.`);
    return;
  }
  println(io, `${report.tasks} task${report.tasks === 1 ? '' : 's'}${scope}, ${usd(report.costUsd)} in all`);
  println(io, paint(io, 'bold', '\nBy agent'));
  println(
    io,
    table(
      ['agent', 'tasks', 'success', 'first try', 'repairs', 'registry hits', 'tokens in/out', 'cost', 'failures'],
      report.agents.map((a) => [
        safeText(a.agent),
        a.tasks,
        percent(a.successRate),
        percent(a.firstTryRate),
        a.repairs,
        a.registryHits,
        `${a.inputTokens}/${a.outputTokens}`,
        a.unpricedTasks > 0 ? `${usd(a.costUsd)} (+${a.unpricedTasks} unpriced)` : usd(a.costUsd),
        Object.entries(a.errors)
          .map(([category, n]) => `${category} ${n}`)
          .join(', ') || '-',
      ]),
    ),
  );
  if (report.models.length === 0) return;
  println(io, paint(io, 'bold', '\nBy model'));
  println(
    io,
    table(
      ['provider', 'model', 'calls', 'tokens in/out', 'tasks', 'cost'],
      report.models.map((m) => [
        safeText(m.provider),
        safeText(m.model),
        m.calls,
        `${m.inputTokens}/${m.outputTokens}`,
        m.tasks,
        usd(m.costUsd),
      ]),
    ),
  );
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs('stats', { args, allowPositionals: true, options: OPTIONS });
  if (positionals.length > 0)
    throw new UsageError(`stats takes no arguments; got ${positionals.join(' ')}`, 'limit it with --since 1d');
  const since = values.since === undefined ? null : parseSince(values.since);
  const { report, damaged } = await withCliStorage(io, async ({ results }) => {
    const collector = new StatsCollector(since);
    let damaged = 0;
    for await (const item of results.scan(since ? { since } : {})) {
      if (item.damaged) damaged += 1;
      else collector.add(item.result);
    }
    return { report: collector.report(), damaged };
  });
  if (values.json) {
    printJson(io, { ...report, damaged });
    return 0;
  }
  printReport(io, report);
  if (damaged > 0)
    println(
      io,
      `\n${paint(io, 'red', 'damaged')} ${damaged} result(s) could not be read (automesh logs export names them)`,
    );
  return 0;
}

export const statsCommand: Command = { name: 'stats', help: HELP, options: OPTIONS, run };
