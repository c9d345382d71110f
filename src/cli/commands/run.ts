/** `automesh run`: one task with one agent, or a workflow file, with live progress and a final table. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Envelope } from '../../agent/envelope.js';
import { isAutomeshError } from '../../core/errors.js';
import { resolveWorkflow, type WorkflowStep, type WorkflowValidationError } from '../../mesh/workflow-spec.js';
import { defaultAgentsFile, meshOfAgentsFile } from '../agents-mesh.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { CliError, eprintln, type Io, paint, printJson, UsageError } from '../io.js';
import { Progress, printTaskResult, printWorkflowResult } from '../progress.js';

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

const OPTIONS = {
  agents: { type: 'string' },
  agent: { type: 'string' },
  context: { type: 'string' },
  id: { type: 'string' },
  fresh: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

interface WorkflowFile {
  id: string;
  steps: WorkflowStep[];
}

/** Workflow id from a file name: what the id rules allow. */
function idFromFileName(file: string): string {
  const stem = basename(file).replace(/\.json$/i, '');
  const id = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
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
    if (id !== undefined && typeof id !== 'string')
      throw new Error(`${shown}: "id" must be a string; got ${JSON.stringify(id)}.`);
  } else {
    throw new Error(
      `${shown} must hold { "id"?: "...", "steps": [ { "agent", "task", ... } ] } or a bare array of steps.`,
    );
  }
  if (!Array.isArray(steps) || steps.length === 0)
    throw new Error(`${shown}: "steps" must be a non-empty array of { "agent", "task", "dependsOn"?, "context"? }.`);
  return { id: idOption ?? (id as string | undefined) ?? idFromFileName(path), steps: steps as WorkflowStep[] };
}

/**
 * Whether the arguments name a workflow file rather than a task: one argument, one word (a task is a sentence,
 * and may well mention a file: "Explain workflow.json"), that is an existing file or ends in .json, and no --agent
 * (a task's option). With --agent, an existing .json file is a mistake worth naming.
 */
function isWorkflowArgument(io: Io, positionals: string[], values: { agent?: string }): boolean {
  const first = positionals[0] as string;
  if (positionals.length !== 1 || /\s/.test(first.trim())) return false;
  const path = resolve(io.cwd, first);
  const isFile = existsSync(path) && statSync(path).isFile();
  if (values.agent !== undefined) {
    if (isFile && /\.json$/i.test(first)) {
      throw new UsageError(
        `${first} is a workflow file, and --agent is for a single task`,
        'drop --agent (each step of a workflow names its agent), or quote a task sentence',
      );
    }
    return false;
  }
  return isFile || /\.json$/i.test(first);
}

/** The engine's words for options are the library's (`{ fresh: true }`); say the CLI's instead. */
function inCliTerms(err: unknown): unknown {
  if (!(err instanceof Error) || !err.message.includes('{ fresh: true }')) return err;
  return new CliError(
    err.message
      .replace(/run it with \{ fresh: true \}/, 'run it again with --fresh')
      .replace('{ fresh: true }', '--fresh'),
    [],
    'automesh run <workflow.json> --fresh runs every step again and replaces the saved state',
  );
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
  const { values, positionals } = parseVerbArgs('run', {
    args,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (positionals.length === 0)
    throw new UsageError(
      'run needs a task (in quotes) or a workflow file',
      'e.g. automesh run --agent calculator "Calculate 2**10", or automesh run workflow.json',
    );

  const first = positionals[0] as string;
  const workflowMode = isWorkflowArgument(io, positionals, values);
  if (workflowMode) {
    if (!existsSync(resolve(io.cwd, first)))
      throw new UsageError(
        `workflow file ${first} not found`,
        `to run it as a task, quote a sentence: automesh run --agent NAME "..."`,
      );
    if (values.context !== undefined)
      throw new UsageError('--context is for a single task', 'in a workflow file give each step a "context"');
  } else {
    if (values.id !== undefined) throw new UsageError('--id names a workflow; it does not apply to a single task');
    if (values.fresh)
      throw new UsageError('--fresh is for workflows; a single task always runs (or reuses registered code)');
  }
  let context: Record<string, unknown> | undefined;
  if (values.context !== undefined) {
    try {
      context = JSON.parse(values.context) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(
        `--context is not JSON: ${err instanceof Error ? err.message : String(err)}`,
        'give a JSON object, e.g. --context \'{"n": 12}\'',
      );
    }
    if (!context || typeof context !== 'object' || Array.isArray(context))
      throw new UsageError('--context must be a JSON object', 'e.g. --context \'{"n": 12}\'');
  }
  const workflow = workflowMode ? readWorkflowFile(resolve(io.cwd, first), first, values.id) : null;

  const agentsFile =
    values.agents
    ?? defaultAgentsFile(io, 'run', 'e.g. automesh run --agents ./src/agents.ts --agent calculator "Calculate 2**10"');
  // No telemetry: a one-shot run has no metrics to serve, and a METRICS_PORT in .env is a node's.
  const { mesh, loaded } = await meshOfAgentsFile(io, agentsFile, { telemetry: false });
  const describe = (): string => {
    const caps = [...new Set(mesh.agents.flatMap((a) => [...a.capabilities]))];
    return `roles: ${mesh.agents.map((a) => a.role).join(', ')}; capabilities: ${caps.join(', ') || 'none'}`;
  };

  // Validate before starting the sandbox workers: a typo fails at once.
  let role = '';
  let stepRows: Array<{ id: string; role: string; task: string }> = [];
  if (workflow) {
    try {
      stepRows = resolveWorkflow(workflow.id, workflow.steps, {
        resolve: (name) => mesh.resolveAgent(name),
        describe,
      }).map((s) => ({ id: s.id, role: s.role, task: s.task }));
    } catch (err) {
      if (isAutomeshError(err, 'invalid-workflow')) {
        const { problems } = err as WorkflowValidationError;
        throw new CliError(
          `${first} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
          problems,
        );
      }
      throw new CliError(`${first}: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else {
    const agents = mesh.agents;
    if (values.agent === undefined) {
      if (agents.length !== 1) {
        throw new UsageError(
          `${loaded.file} has ${agents.length} agents; say which one runs the task`,
          `add --agent NAME (${describe()})`,
        );
      }
      role = (agents[0] as (typeof agents)[number]).role;
    } else {
      const found = mesh.resolveAgent(values.agent);
      if (!found) throw new CliError(`no agent "${values.agent}" in ${loaded.file} (${describe()})`);
      role = found;
    }
  }

  await mesh.start();
  const sigint = cancelOnSigint(io);
  try {
    if (workflow) {
      const progress = new Progress(
        io,
        { title: `workflow ${workflow.id}`, idHeader: 'step', enabled: !values.json },
        stepRows,
      );
      const unfollow = progress.follow(mesh, workflow.id);
      let results;
      try {
        results = await mesh.workflow(workflow.id, workflow.steps, { fresh: values.fresh, signal: sigint.signal });
      } catch (err) {
        throw inCliTerms(err);
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
    if (!agent)
      throw new CliError(
        `"${role}" is a CustomAgent: a task for it runs as a workflow step (a workflow file), or over HTTP (automesh serve)`,
      );
    const task = positionals.join(' ');
    const progress = new Progress(io, { title: 'task', idHeader: 'agent', enabled: !values.json }, [
      { id: role, role, task },
    ]);
    let envelope: Envelope;
    try {
      progress.started(role, role, task);
      envelope = await agent.executeTask({
        task,
        ...(context ? { context } : {}),
        signal: sigint.signal,
        onRepair: (info) => progress.repaired(role, info.repair, info.errorCategory, info.error),
        onLlmEvent: (event) => progress.llm(role, event),
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

export const runCommand: Command = { name: 'run', help: HELP, options: OPTIONS, run };
