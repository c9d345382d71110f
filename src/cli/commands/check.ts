/**
 * `automesh check [--validate-llm] [--json] [--verbose]`: is this machine ready? Node.js, the sandbox (a real
 * self-test), `.env`, each provider (keys masked), optionally one live call per provider, sandbox and storage
 * settings; then a summary and the next steps. Exit 1 on any problem. The stages are in `../check-stages.ts`.
 */

import { parseVerbArgs } from '../args.js';
import { badge, Reporter } from '../check-report.js';
import {
  agentsStage,
  envFileStage,
  liveStage,
  nextStepsOf,
  nodeStage,
  providersStage,
  sandboxStage,
  settingsStage,
  storageStage,
} from '../check-stages.js';
import type { Command } from '../command.js';
import { type Io, ms, paint, printJson, println } from '../io.js';

const HELP = `Usage: automesh check [--validate-llm] [--agents FILE] [--json] [--verbose]

Checks that automesh can run here: the Node.js version; the sandbox (isolated-vm starts in a worker process,
runs code, and enforces its memory and time limits); the .env file; each LLM provider (configured or not,
keys masked); the sandbox and storage settings. Ends with a summary and the next steps.

Options:
  --validate-llm  also make one tiny live call (16 tokens at most) to every configured provider, in chain
                  order, and report its latency and model, or why it failed (auth, unknown model,
                  unreachable, timeout)
  --agents FILE   the agents file to check (default: ./agents.ts or ./agents.js when there is one): each
                  agent's providers and models (its own llm order and models, or the chain order),
                  flagging providers that are not configured and, with MAX_TASK_COST_USD, unpriced models
  --json          print one JSON object with every check
  --verbose       add details: every setting's value and source (secrets masked), the sandbox
                  executions' messages, timings

Exit code 0 when everything works, 1 on any problem (no provider configured is a problem; so is a provider
failing --validate-llm).`;

const OPTIONS = {
  'validate-llm': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  agents: { type: 'string' },
} as const;

/** The summary and the next steps, after every stage's items. */
function printSummary(io: Io, report: Reporter, nextSteps: readonly string[], verbose: boolean, totalMs: number): void {
  const failed = report.items.filter((i) => i.status === 'fail');
  const warned = report.items.filter((i) => i.status === 'warn');
  println(io, '');
  const counts = `${report.items.filter((i) => i.status === 'ok').length} ok, ${warned.length} warning${warned.length === 1 ? '' : 's'}`;
  if (failed.length === 0) {
    println(
      io,
      `${paint(io, 'bold', 'Summary:')} ${paint(io, 'green', 'everything works')} (${counts})${verbose ? ` in ${ms(totalMs)}` : ''}.`,
    );
  } else {
    println(
      io,
      `${paint(io, 'bold', 'Summary:')} ${paint(io, 'red', `${failed.length} problem${failed.length === 1 ? '' : 's'}`)} (${counts}):`,
    );
    for (const item of failed) println(io, `  ${badge(io, 'fail')} ${item.message.replace(/:$/, '')}`);
  }
  println(io, '');
  println(io, paint(io, 'bold', 'Next steps:'));
  nextSteps.forEach((step, i) => println(io, `  ${i + 1}. ${step}`));
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('check', { args, options: OPTIONS });
  const { json, verbose } = values;
  const validate = values['validate-llm'];
  const started = performance.now();
  const report = new Reporter(io, json, verbose);
  if (!json)
    println(
      io,
      `${paint(io, 'bold', 'automesh check')}${validate ? ' --validate-llm' : ''}: is everything in place to run agents here?`,
    );

  const node = nodeStage(report);
  const envFile = envFileStage(report, io);
  const config = settingsStage(report, io, envFile.vars);
  const { settings } = config;
  const sandbox = await sandboxStage(report, settings);
  if (!settings)
    report.add({
      section: 'providers',
      id: 'providers',
      status: 'skip',
      message: 'not checked: fix the settings first',
    });
  const providers = settings ? providersStage(report, settings, config.source) : [];
  const validation = settings && validate ? await liveStage(report, settings, providers) : null;
  const agents = await agentsStage(report, values.agents, io, settings);
  const storage = settings ? storageStage(report, settings, sandbox.settings, io) : null;

  const nextSteps = nextStepsOf(report.items, validate);
  const ok = !report.items.some((i) => i.status === 'fail');
  const totalMs = performance.now() - started;
  if (!json) {
    printSummary(io, report, nextSteps, verbose, totalMs);
    return ok ? 0 : 1;
  }
  const { vars: _vars, ...envReport } = envFile;
  printJson(io, {
    ok,
    problems: report.items.filter((i) => i.status === 'fail').map((i) => i.message),
    warnings: report.items.filter((i) => i.status === 'warn').map((i) => i.message),
    node,
    envFile: envReport,
    settings: {
      ok: settings !== null,
      problems: config.problems,
      ...(verbose && config.values ? { values: config.values } : {}),
    },
    sandbox: {
      ok: sandbox.result.ok,
      probes: sandbox.result.probes,
      workersStarted: sandbox.result.workersStarted,
      settings: sandbox.settings,
    },
    providerOrder: settings?.LLM_PROVIDER_ORDER ?? null,
    providers,
    validation,
    agents,
    storage,
    checks: report.items,
    nextSteps,
    durationMs: totalMs,
  });
  return ok ? 0 : 1;
}

export const checkCommand: Command = {
  name: 'check',
  help: HELP,
  options: OPTIONS,
  run,
};
