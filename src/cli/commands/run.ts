/** `automesh run`: one task with one agent, or a workflow file, with live progress and a final table. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Envelope } from '../../agent/envelope.js';
import type { SettingsInput } from '../../config/settings.js';
import { Mesh } from '../../mesh/mesh.js';
import { resolveWorkflow, WorkflowValidationError, type WorkflowStep } from '../../mesh/workflow-spec.js';
import type { Command } from '../command.js';
import { eprintln, paint, printJson, println, UsageError, type Io } from '../io.js';
import { AgentsFileError, loadAgents, type LoadedAgents } from '../load-agents.js';
import { Progress, printTaskResult, printWorkflowResult } from '../progress.js';
import { cliSettings } from '../setup.js';

const HELP = `Usage: automesh run [--agents FILE] [--agent NAME] "<task>"
       automesh run [--agents FILE] <workflow.json>

Runs one task with one agent, or a workflow file, showing progress live (steps, status, repairs, tokens,
cost) and a table of the results at the end.

Options:
  --agents FILE   the module that exports your agents, .ts or .js (default: ./agents.ts or ./agents.js):
                    export const agents = [CalculatorAgent, defineAgent({...}), { agent: DataAgent, tools: [query] }]
                  or a default export of such an array, or the agents as named exports
  --agent NAME    role or capability of the agent for a task (default: the only agent in the file)
  --context JSON  context object for a task, e.g. '{"n": 12}'
  --id ID         workflow id (default: the file's "id", else the file name); state goes to
                  LOG_DIRECTORY/workflows/<id>.json and running the same id again resumes
  --fresh         run every workflow step again instead of resuming the saved state
  --json          print only JSON: the envelope of the task, or { workflowId, summary, steps: [envelopes] }

A workflow file holds { "id"?: "...", "steps": [...] } or a bare array of steps; a step is
{ "id"?, "agent", "task", "dependsOn"?, "context"? } as in mesh.workflow().
Settings come from .env in the working directory and the environment (see .env.example).
Exit code: 0 when the task or every step succeeded, 1 otherwise.

Examples:
  automesh run --agents ./agents.ts --agent calculator "Calculate 2**10"
  automesh run --agents ./agents.ts workflow.json
  automesh run workflow.json --fresh --json`;

interface WorkflowFile {
  id: string;
  steps: WorkflowStep[];
}

/** Workflow id from a file name: what the id rules allow. */
function idFromFileName(file: string): string {
  const stem = basename(file).replace(/\.json$/i, '');
  const id = stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return id || 'workflow';
}

function readWorkflowFile(path: string, shown: string, idOption: string | undefined): WorkflowFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${shown} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  let steps: unknown;
  let id: unknown;
  if (Array.isArray(parsed)) {
    steps = parsed;
  } else if (parsed && typeof parsed === 'object' && 'steps' in parsed) {
    ({ steps, id } = parsed as { steps: unknown; id?: unknown });
    if (id !== undefined && typeof id !== 'string') throw new Error(`${shown}: "id" must be a string; got ${JSON.stringify(id)}.`);
  } else {
    throw new Error(`${shown} must hold { "id"?: "...", "steps": [ { "agent", "task", ... } ] } or a bare array of steps.`);
  }
  if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${shown}: "steps" must be a non-empty array of { "agent", "task", "dependsOn"?, "context"? }.`);
  return { id: idOption ?? (id as string | undefined) ?? idFromFileName(path), steps: steps as WorkflowStep[] };
}

/** Settings as the CLI read them, handed to the mesh as its config (so .env is read from `io.cwd`). */
function meshConfig(io: Io): SettingsInput {
  const { settings } = cliSettings(io);
  const config: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) if (value !== undefined) config[name] = value;
  config.LOG_DIRECTORY = resolve(io.cwd, settings.LOG_DIRECTORY);
  return config as SettingsInput;
}

function defaultAgentsFile(io: Io): string {
  for (const candidate of ['agents.ts', 'agents.js', 'agents.mjs']) if (existsSync(resolve(io.cwd, candidate))) return `./${candidate}`;
  throw new UsageError('run needs --agents <file>: the module that exports your agents (there is no ./agents.ts here).');
}

/** Ctrl-C cancels the run (steps in flight end cancelled, the rest skipped); a second Ctrl-C quits at once. */
function cancelOnSigint(io: Io): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    eprintln(io, paint(io, 'yellow', '\nCancelling (Ctrl-C again to quit at once)…'));
    controller.abort(new Error('cancelled with Ctrl-C'));
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      agents: { type: 'string' },
      agent: { type: 'string' },
      context: { type: 'string' },
      id: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('run needs a task (in quotes) or a workflow file.');

  // A workflow when the one argument is a .json file (or an existing file and no --agent); otherwise a task.
  const first = positionals[0] as string;
  const firstPath = resolve(io.cwd, first);
  const isFile = positionals.length === 1 && existsSync(firstPath) && statSync(firstPath).isFile();
  const workflowMode = positionals.length === 1 && (/\.json$/i.test(first) || (isFile && values.agent === undefined));
  if (workflowMode) {
    if (!isFile) throw new UsageError(`Workflow file ${first} not found.`);
    if (values.agent !== undefined) throw new UsageError('--agent is for a single task; in a workflow each step names its agent.');
    if (values.context !== undefined) throw new UsageError('--context is for a single task; in a workflow give each step a "context".');
  } else {
    if (values.id !== undefined) throw new UsageError('--id names a workflow; it does not apply to a single task.');
    if (values.fresh) throw new UsageError('--fresh is for workflows; a single task always runs (or reuses registered code).');
  }
  let context: Record<string, unknown> | undefined;
  if (values.context !== undefined) {
    try {
      context = JSON.parse(values.context) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--context must be a JSON object: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!context || typeof context !== 'object' || Array.isArray(context)) throw new UsageError('--context must be a JSON object, e.g. \'{"n": 12}\'.');
  }
  const workflow = workflowMode ? readWorkflowFile(firstPath, first, values.id) : null;

  const config = meshConfig(io);
  let loaded: LoadedAgents;
  try {
    loaded = await loadAgents(values.agents ?? defaultAgentsFile(io), io.cwd);
  } catch (err) {
    if (err instanceof AgentsFileError) {
      eprintln(io, `${paint(io, 'red', 'error:')} ${err.message}`);
      return 1;
    }
    throw err;
  }
  for (const warning of loaded.warnings) eprintln(io, `${paint(io, 'yellow', 'warning:')} ${warning}`);

  const mesh = new Mesh({ mode: 'autonomous', config });
  for (const entry of loaded.agents) {
    try {
      mesh.add(entry.agent, entry.options);
    } catch (err) {
      eprintln(io, `${paint(io, 'red', 'error:')} ${loaded.file}: ${entry.source}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  const describe = (): string => {
    const caps = [...new Set(mesh.agents.flatMap((a) => [...a.capabilities]))];
    return `roles: ${mesh.agents.map((a) => a.role).join(', ')}; capabilities: ${caps.join(', ') || 'none'}`;
  };

  // Validate before starting the sandbox workers: a typo fails at once.
  let role = '';
  let stepRows: Array<{ id: string; role: string; task: string }> = [];
  if (workflow) {
    try {
      stepRows = resolveWorkflow(workflow.id, workflow.steps, { resolve: (name) => mesh.resolveAgent(name), describe })
        .map((s) => ({ id: s.id, role: s.role, task: s.task }));
    } catch (err) {
      if (err instanceof WorkflowValidationError) {
        eprintln(io, `${paint(io, 'red', 'error:')} ${first} is invalid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`);
        for (const problem of err.problems) eprintln(io, `  - ${problem}`);
        return 1;
      }
      throw new UsageError(`${first}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    const agents = mesh.agents;
    if (values.agent === undefined) {
      if (agents.length !== 1) {
        throw new UsageError(`${loaded.file} has ${agents.length} agents; say which one runs the task with --agent NAME (${describe()}).`);
      }
      role = (agents[0] as (typeof agents)[number]).role;
    } else {
      const found = mesh.resolveAgent(values.agent);
      if (!found) {
        eprintln(io, `${paint(io, 'red', 'error:')} no agent "${values.agent}" in ${loaded.file} (${describe()}).`);
        return 1;
      }
      role = found;
    }
  }

  await mesh.start();
  const sigint = cancelOnSigint(io);
  try {
    if (workflow) {
      const progress = new Progress(io, { title: `workflow ${workflow.id}`, idHeader: 'step', enabled: !values.json }, stepRows);
      const unfollow = progress.follow(mesh, workflow.id);
      let results;
      try {
        results = await mesh.workflow(workflow.id, workflow.steps, { fresh: values.fresh, signal: sigint.signal });
      } finally {
        unfollow();
        progress.finish();
      }
      const ok = !results.summary.cancelled && results.every((e) => e.status === 'success');
      if (values.json) {
        printJson(io, { workflowId: workflow.id, summary: results.summary, steps: [...results] });
      } else {
        printWorkflowResult(io, workflow.id, results, results.summary);
      }
      return ok ? 0 : 1;
    }

    const agent = mesh.getAgent(role);
    if (!agent) throw new Error(`internal: agent ${role} vanished`);
    const task = positionals.join(' ');
    const progress = new Progress(io, { title: 'task', idHeader: 'agent', enabled: !values.json }, [{ id: role, role, task }]);
    let envelope: Envelope;
    try {
      progress.started(role, role, task);
      envelope = await agent.executeTask({
        task,
        ...(context ? { context } : {}),
        signal: sigint.signal,
        onRepair: (info) => progress.repaired(role, info.repair, info.errorCategory, info.error),
      });
      progress.ended(role, envelope);
    } finally {
      progress.finish();
    }
    if (values.json) printJson(io, envelope);
    else printTaskResult(io, envelope);
    return envelope.status === 'success' ? 0 : 1;
  } finally {
    sigint.dispose();
    await mesh.stop();
  }
}

export const runCommand: Command = { name: 'run', summary: 'run a task or a workflow file with live progress', help: HELP, run };
