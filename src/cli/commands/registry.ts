/** `automesh registry list|show|search|rm`: what the code registry holds. */
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { paint, printJson, println, table, UsageError, type Io } from '../io.js';
import { cliSettings, cliStorage } from '../setup.js';

const HELP = `Usage: automesh registry <list|show|search|rm> [options]

Read what the code registry holds: code that worked, per task, with provenance and stats.

  automesh registry list [--role R] [--stage candidate|verified|golden] [--json]
  automesh registry show <id> [--json]        the code with its provenance and stats
  automesh registry search <text> [--limit N] [--json]
  automesh registry rm <id>

The registry lives under LOG_DIRECTORY/registry (default ./logs/registry).`;

function short(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

async function run(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      role: { type: 'string' },
      stage: { type: 'string' },
      limit: { type: 'string', default: '20' },
    },
  });
  const { settings } = cliSettings(io);
  const registry = cliStorage(settings, io).registryApi;
  switch (action) {
    case 'list': {
      const stage = values.stage;
      if (stage !== undefined && !['candidate', 'verified', 'golden'].includes(stage)) {
        throw new UsageError(`--stage must be candidate, verified or golden; got "${stage}".`);
      }
      const entries = await registry.list({
        ...(values.role ? { role: values.role } : {}),
        ...(stage ? { stage: stage as 'candidate' | 'verified' | 'golden' } : {}),
      });
      // Damaged records are listed flagged (never dropped, never failing the listing): each affects only itself.
      const damaged = entries.damaged.map((d) => ({ id: d.id, kind: d.kind, path: d.path, damaged: true, reason: d.reason }));
      if (values.json) {
        printJson(io, [...entries, ...damaged]);
        return 0;
      }
      if (entries.length === 0 && damaged.length === 0) {
        println(io, 'The registry is empty: run a task (automesh run or automesh smoketest) to fill it.');
        return 0;
      }
      println(io, table(['id', 'role', 'stage', 'ok', 'failed', 'task'], [
        ...entries.map((e) => [e.id, e.role, e.stage, e.successCount, e.failureCount, short(e.task, 60)]),
        ...damaged.map((d) => [d.id, '?', 'DAMAGED', '-', '-', `${d.kind} ${d.path}`]),
      ]));
      for (const d of damaged) println(io, `\n${paint(io, 'red', 'damaged')} ${d.kind} ${d.id}: ${d.reason}`);
      return 0;
    }
    case 'show': {
      const id = positionals[0];
      if (!id) throw new UsageError('registry show needs an id (see automesh registry list).');
      const entry = await registry.get(id);
      if (!entry) {
        println(io, `No registry entry "${id}". See automesh registry list.`);
        return 1;
      }
      if (values.json) {
        printJson(io, entry);
        return 0;
      }
      println(io, `${paint(io, 'bold', entry.id)}  ${entry.role}  ${entry.stage}`);
      println(io, `task:        ${entry.task}`);
      println(io, `successes:   ${entry.successCount}, failures: ${entry.failureCount}${entry.lastError ? ` (last error: ${entry.lastError})` : ''}`);
      println(io, `provenance:  ${entry.provenance.provider ?? '?'} / ${entry.provenance.model ?? '?'}, result ${entry.provenance.resultId ?? '?'}, ${entry.provenance.createdAt}`);
      println(io, `last used:   ${entry.lastUsedAt ?? 'never reused'}`);
      println(io, `capabilities: ${entry.capabilities.join(', ') || '-'}`);
      println(io, '');
      println(io, entry.code);
      return 0;
    }
    case 'search': {
      const text = positionals.join(' ').trim();
      if (!text) throw new UsageError('registry search needs some text, e.g. automesh registry search factorial');
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number >= 1.');
      const hits = await registry.search(text, { limit });
      if (values.json) {
        printJson(io, hits.map((h) => ({ score: h.score, ...h.entry })));
        return 0;
      }
      if (hits.length === 0) {
        println(io, `Nothing in the registry matches "${text}".`);
        return 0;
      }
      println(io, table(['score', 'id', 'role', 'stage', 'task'],
        hits.map((h) => [h.score, h.entry.id, h.entry.role, h.entry.stage, short(h.entry.task, 60)])));
      return 0;
    }
    case 'rm': {
      const id = positionals[0];
      if (!id) throw new UsageError('registry rm needs an id.');
      if (!(await registry.remove(id))) {
        println(io, `No registry entry "${id}".`);
        return 1;
      }
      println(io, `Removed ${id}.`);
      return 0;
    }
    default:
      throw new UsageError(action ? `Unknown registry action "${action}".` : 'registry needs an action.');
  }
}

export const registryCommand: Command = { name: 'registry', summary: 'list, show, search or remove registered code', help: HELP, run };
