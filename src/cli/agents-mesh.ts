/**
 * What `automesh run` and `automesh serve` share: the agents of an agents file (the one named, or ./agents.ts,
 * .js, .mjs), added to a new in-process (or, with NATS_URL, networked) Mesh with the CLI's settings; the file's
 * warnings and misnamed settings printed first.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAutomeshError } from '../core/errors.js';
import { Mesh } from '../mesh/mesh.js';
import { CliError, eprintln, type Io, paint, UsageError } from './io.js';
import { type LoadedAgents, loadAgents } from './load-agents.js';
import { cliSettings, meshConfig } from './setup.js';

/** The agents file when none is named: ./agents.ts (.js, .mjs); a usage error naming `verb` when there is none. */
export function defaultAgentsFile(io: Io, verb: string, example: string): string {
  for (const candidate of ['agents.ts', 'agents.js', 'agents.mjs'])
    if (existsSync(resolve(io.cwd, candidate))) return `./${candidate}`;
  throw new UsageError(
    `${verb} needs --agents FILE: the module that exports your agents (there is no ./agents.ts here)`,
    example,
  );
}

/** Names in .env that are no setting but look like one (they are ignored: say so before anything runs). */
function settingWarnings(io: Io): string[] {
  return cliSettings(io).misnamed.map(
    ({ name, suggestion }) =>
      `.env sets ${name}, which is not an automesh setting (ignored): did you mean ${suggestion}?`,
  );
}

/** A Mesh (not started) holding the agents of `file`; a file that does not load, or an agent refused, is a CliError. */
export async function meshOfAgentsFile(
  io: Io,
  file: string,
  options: { telemetry: boolean },
): Promise<{ mesh: Mesh; loaded: LoadedAgents }> {
  const config = meshConfig(io);
  let loaded: LoadedAgents;
  try {
    loaded = await loadAgents(file, io.cwd);
  } catch (err) {
    if (isAutomeshError(err, 'agents-file')) throw new CliError(err.message);
    throw err;
  }
  for (const warning of [...settingWarnings(io), ...loaded.warnings])
    eprintln(io, `${paint(io, 'yellow', 'warning:')} ${warning}`);
  const mesh = new Mesh({ mode: 'autonomous', config, telemetry: options.telemetry });
  for (const entry of loaded.agents) {
    try {
      mesh.add(entry.agent, entry.options);
    } catch (err) {
      throw new CliError(`${loaded.file}: ${entry.source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { mesh, loaded };
}
