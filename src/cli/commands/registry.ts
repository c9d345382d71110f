/** `automesh registry list|show|search|rm`: what the code registry holds. */
import type { RegistryEntry } from '../../registry/index.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, type Io, paint, printJson, println, table, UsageError } from '../io.js';
import { type CliStorage, withCliStorage } from '../setup.js';
import { safeText } from '../terminal-text.js';

const HELP = `Usage: automesh registry <list|show|search|rm> [options]

Read what the code registry holds: code that worked, per task, with provenance and stats.

  automesh registry list [--role R] [--stage candidate|verified|golden] [--json]
  automesh registry show <id> [--json]        the code with its provenance and stats
  automesh registry search <text> [--limit N] [--json]
  automesh registry rm <id> [--json]

Options:
  --role R      list only the entries of the agent with role R
  --stage S     list only the entries at stage S: candidate, verified or golden
  --limit N     search: at most N hits (default 20)
  --json        print the entries as JSON (model-written text as it is; on a terminal, control characters
                in it are shown as escapes such as \\x1b)

The registry lives in the database LOG_DIRECTORY/automesh.db (default ./logs); search uses its full-text index.`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  role: { type: 'string' },
  stage: { type: 'string' },
  limit: { type: 'string', default: '20' },
} as const;

const STAGES = ['candidate', 'verified', 'golden'] as const;
type Stage = (typeof STAGES)[number];

function short(text: string, width: number): string {
  const flat = safeText(text.replace(/\s+/g, ' ').trim());
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** What an empty filtered list says: that nothing matched, and what the registry does hold. */
function noMatch(all: RegistryEntry[], filters: string): string {
  if (all.length === 0) return 'The registry is empty: run a task (automesh run or automesh smoketest) to fill it.';
  const byStage = STAGES.map((s) => `${all.filter((e) => e.stage === s).length} ${s}`).join(', ');
  const roles = [...new Set(all.map((e) => e.role))].sort().join(', ');
  return (
    `No registry entry matches ${filters}. The registry holds ${all.length} entr${all.length === 1 ? 'y' : 'ies'} `
    + `(${byStage}; roles ${safeText(roles)}).`
  );
}

async function list(
  io: Io,
  registry: CliStorage['registryApi'],
  values: { role?: string; stage?: string; json: boolean },
): Promise<number> {
  const stage = values.stage;
  if (stage !== undefined && !(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage must be candidate, verified or golden; got "${stage}"`);
  }
  const entries = await registry.list({
    ...(values.role ? { role: values.role } : {}),
    ...(stage ? { stage: stage as Stage } : {}),
  });
  // Damaged records are listed flagged (never dropped, never failing the listing): each affects only itself.
  const damaged = entries.damaged.map((d) => ({
    id: d.id,
    kind: d.kind,
    path: d.path,
    damaged: true,
    reason: d.reason,
  }));
  if (values.json) {
    printJson(io, [...entries, ...damaged]);
    return 0;
  }
  if (entries.length === 0 && damaged.length === 0) {
    const filters = [values.role ? `--role ${values.role}` : '', stage ? `--stage ${stage}` : '']
      .filter(Boolean)
      .join(' ');
    println(io, filters ? noMatch(await registry.list(), filters) : noMatch([], ''));
    return 0;
  }
  println(
    io,
    table(
      ['id', 'role', 'stage', 'ok', 'failed', 'task'],
      [
        ...entries.map((e) => [e.id, e.role, e.stage, e.successCount, e.failureCount, short(e.task, 60)]),
        ...damaged.map((d) => [d.id, '?', 'DAMAGED', '-', '-', `${d.kind} ${d.path}`]),
      ],
    ),
  );
  for (const d of damaged) println(io, `\n${paint(io, 'red', 'damaged')} ${d.kind} ${d.id}: ${safeText(d.reason)}`);
  return 0;
}

function printEntry(io: Io, entry: RegistryEntry): void {
  println(io, `${paint(io, 'bold', entry.id)}  ${entry.role}  ${entry.stage}`);
  println(io, `task:        ${safeText(entry.task)}`);
  println(
    io,
    `successes:   ${entry.successCount}, failures: ${entry.failureCount}${entry.lastError ? ` (last error: ${safeText(entry.lastError)})` : ''}`,
  );
  println(
    io,
    `provenance:  ${entry.provenance.provider ?? '?'} / ${entry.provenance.model ?? '?'}, result ${entry.provenance.resultId ?? '?'}, ${entry.provenance.createdAt}`,
  );
  println(io, `last used:   ${entry.lastUsedAt ?? 'never reused'}`);
  println(io, `capabilities: ${entry.capabilities.join(', ') || '-'}`);
  println(io, '');
  println(io, safeText(entry.code));
}

async function run(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseVerbArgs('registry', {
    args: rest,
    allowPositionals: true,
    options: OPTIONS,
  });
  return withCliStorage(io, ({ registryApi }) => act(io, registryApi, action, values, positionals));
}

async function act(
  io: Io,
  registry: CliStorage['registryApi'],
  action: string | undefined,
  values: { role?: string; stage?: string; limit: string; json: boolean },
  positionals: string[],
): Promise<number> {
  switch (action) {
    case 'list':
      return list(io, registry, values);
    case 'show': {
      const id = positionals[0];
      if (!id) throw new UsageError('registry show needs an id', 'automesh registry list shows the ids');
      const entry = await registry.get(id);
      if (!entry) throw new CliError(`no registry entry "${id}"`, [], 'automesh registry list shows the ids');
      if (values.json) printJson(io, entry);
      else printEntry(io, entry);
      return 0;
    }
    case 'search': {
      const text = positionals.join(' ').trim();
      if (!text) throw new UsageError('registry search needs some text', 'e.g. automesh registry search factorial');
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError(`--limit must be a whole number >= 1; got "${values.limit}"`);
      const hits = await registry.search(text, { limit });
      if (values.json) {
        printJson(
          io,
          hits.map((h) => ({ score: h.score, ...h.entry })),
        );
        return 0;
      }
      if (hits.length === 0) {
        println(io, `Nothing in the registry matches "${safeText(text)}".`);
        return 0;
      }
      println(
        io,
        table(
          ['score', 'id', 'role', 'stage', 'task'],
          hits.map((h) => [h.score, h.entry.id, h.entry.role, h.entry.stage, short(h.entry.task, 60)]),
        ),
      );
      return 0;
    }
    case 'rm': {
      const id = positionals[0];
      if (!id) throw new UsageError('registry rm needs an id', 'automesh registry list shows the ids');
      if (!(await registry.remove(id)))
        throw new CliError(`no registry entry "${id}"`, [], 'automesh registry list shows the ids');
      if (values.json) printJson(io, { ok: true, removed: id });
      else println(io, `Removed ${id}.`);
      return 0;
    }
    default:
      throw new UsageError(
        action && !action.startsWith('-') ? `unknown registry action "${action}"` : 'registry needs an action first',
        'the actions are list, show, search and rm, e.g. automesh registry list --stage verified',
      );
  }
}

export const registryCommand: Command = { name: 'registry', help: HELP, options: OPTIONS, run };
