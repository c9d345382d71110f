/**
 * `automesh smoketest [--json]`: the whole path once. A calculator agent computes "2 + 2" through the real
 * provider chain, sandbox, code registry and result log (the `runTask` pipeline agents use), each stage timed.
 * Exit 0 only when the answer is 4; otherwise the failing stage and what to do.
 *
 * The stages run in order (settings → provider chain → sandbox start → the pipeline), then the pipeline's parts
 * are reported (code generation, execution, registry, result log) and the verdict is drawn.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Envelope } from '../../agent/envelope.js';
import { type AgentIdentity, type AgentRuntime, registryLookupFor, runTask } from '../../agent/pipeline.js';
import { loadPromptTemplates, type PromptTemplates } from '../../codegen/prompts.js';
import { sandboxSettingsOf } from '../../config/sandbox-settings.js';
import type { ProviderName, Settings } from '../../config/settings.js';
import { categoryHint } from '../../core/error-categories.js';
import { isAutomeshError } from '../../core/errors.js';
import type { CodeModel } from '../../llm/code-model.js';
import { createCodeModel } from '../../llm/create-model.js';
import { wrapModel } from '../../llm/model-middleware.js';
import { providerDefinition, providerSetupLines } from '../../llm/providers/index.js';
import { CodeRegistry } from '../../registry/index.js';
import { Executor } from '../../sandbox/executor.js';
import { wrapExecutor } from '../../sandbox/executor-middleware.js';
import { databasePath, openSqliteStorage, type Storage } from '../../storage/index.js';
import { parseVerbArgs } from '../args.js';
import type { Command } from '../command.js';
import { type Io, paint, printJson, println, spinner } from '../io.js';
import { SANDBOX_HINT } from '../self-test.js';
import { cliSettings } from '../setup.js';
import { firstLine, type Outcome, plural, printOutcome, SMOKE_STAGES, Stages, shown } from '../smoke-report.js';
import {
  keepExecutions,
  type SmokeProbe,
  smokeProbe,
  TimedRegistryStore,
  TimedResults,
  timeModelCalls,
} from '../smoke-runtime.js';

const HELP = `Usage: automesh smoketest [--json]

Runs the whole path once: a calculator agent asks the LLM provider chain for code that computes 2 + 2, runs it
in the sandbox, registers it in the code registry and writes the result log, as any task does. Each stage is
printed with its time: settings, provider chain, sandbox start, code generation, execution, registry, result log.

Registry reuse is off for this one task, so the model is really called. Results and the registry live under
LOG_DIRECTORY (default ./logs). Transient provider errors are retried with backoff, as in every run.

Options:
  --json  print one JSON object: every stage, the LLM calls, the result

Exit code 0 when the agent's answer is 4, 1 otherwise (with the stage that failed and what to do).
Run automesh check first if you have not.`;

export const SMOKE_TASK = 'Calculate 2 + 2';
export const SMOKE_EXPECTED = 4;
export const SMOKE_AGENT = {
  role: 'calculator',
  capabilities: ['math', 'calculations'],
  systemPrompt: 'You are a math expert. Store the answer in `result`.',
} as const;

const STORAGE_STEPS = (logRoot: string): string[] => [
  `check that LOG_DIRECTORY (${logRoot}) is a folder automesh may write to`,
  'automesh check tests the storage settings',
];

/** What every stage of one smoketest shares. */
interface Smoke {
  io: Io;
  json: boolean;
  started: number;
  stages: Stages;
  probe: SmokeProbe;
  envelope: Envelope | null;
  resultFile: string | null;
}

/** A stage's result, or the outcome the smoketest ends with because it failed. */
type Staged<T> = { value: T } | { failed: Outcome };

interface SettingsReady {
  settings: Settings;
  prompts: PromptTemplates;
  logRoot: string;
}

/** Stage 1: settings (.env and the environment) and the prompt templates. */
function loadSettingsStage(smoke: Smoke): Staged<SettingsReady> {
  const { io, stages } = smoke;
  const t = performance.now();
  let settings: Settings;
  let prompts: PromptTemplates;
  let envFile: string | null;
  try {
    const setup = cliSettings(io);
    // Forced off for this task only: a registered answer would skip the model, and the model is what we test.
    settings = { ...setup.settings, REGISTRY_REUSE: false };
    envFile = setup.envFile;
    prompts = loadPromptTemplates(settings.PROMPT_DIRECTORY ? resolve(io.cwd, settings.PROMPT_DIRECTORY) : undefined);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      failed: stages.fail(
        'settings',
        performance.now() - t,
        message,
        {
          error: message,
          nextSteps: [
            isAutomeshError(err, 'invalid-settings')
              ? 'fix the settings named above, in the environment or .env (.env.example documents every setting)'
              : 'fix the prompt templates or unset PROMPT_DIRECTORY',
            'automesh check lists every setting and what is wrong',
          ],
        },
        'not run: the settings failed',
      ),
    };
  }
  const logRoot = resolve(io.cwd, settings.LOG_DIRECTORY);
  stages.add({
    name: 'settings',
    status: 'ok',
    durationMs: performance.now() - t,
    detail: `${envFile ? `.env loaded (${envFile})` : 'no .env'}, LOG_DIRECTORY ${shown(logRoot, io.cwd)}, REGISTRY_REUSE off for this task`,
    data: { envFile, logDirectory: logRoot, registryReuse: false },
  });
  return { value: { settings, prompts, logRoot } };
}

/** Stage 2: the model the settings describe, with every call timed. */
function buildModelStage(smoke: Smoke, settings: Settings): Staged<CodeModel> {
  const { stages } = smoke;
  const t = performance.now();
  let model: CodeModel;
  try {
    model = wrapModel(createCodeModel(settings), timeModelCalls(smoke.probe));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const none = isAutomeshError(err, 'no-provider');
    return {
      failed: stages.fail(
        'provider chain',
        performance.now() - t,
        none ? 'no LLM provider is configured' : message,
        {
          error: none ? 'No LLM provider is configured.' : message,
          nextSteps: none
            ? [
                `set the variables of at least one provider, in the environment or in .env:\n${providerSetupLines()
                  .map((l) => `       ${l}`)
                  .join('\n')}`,
                'automesh check shows what is configured; automesh check --validate-llm calls each provider',
              ]
            : ['fix the provider settings named above; automesh check shows each provider'],
        },
        'not run: no provider chain',
      ),
    };
  }
  const order = model.models.map((m) => `${m.provider} (${m.model})`);
  const replaying = Boolean(settings.AUTOMESH_REPLAY);
  stages.add({
    name: 'provider chain',
    status: 'ok',
    durationMs: performance.now() - t,
    detail: replaying
      ? `replaying AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}`
      : `${order.join(' → ')}; ${settings.LLM_MAX_RETRIES > 0 ? `transient errors retried ${settings.LLM_MAX_RETRIES}× with backoff` : 'no retries (LLM_MAX_RETRIES=0)'}, `
        + `LLM_TIMEOUT ${settings.LLM_TIMEOUT} s`,
    data: { providers: model.models.map((m) => ({ name: m.provider, model: m.model })), replaying },
  });
  return { value: model };
}

/** Stage 3: the sandbox, one worker (enough for one task), warmed. */
async function startSandboxStage(smoke: Smoke, settings: Settings): Promise<Staged<Executor>> {
  const t = performance.now();
  let executor: Executor | null = null;
  try {
    executor = new Executor({ settings: sandboxSettingsOf(settings), workers: 1 });
    await executor.warm();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await executor?.close().catch(() => {});
    return {
      failed: smoke.stages.fail(
        'sandbox start',
        performance.now() - t,
        message,
        {
          error: message,
          nextSteps: ['automesh check runs the sandbox self-test and says what is wrong', SANDBOX_HINT],
        },
        'not run: the sandbox did not start',
      ),
    };
  }
  smoke.stages.add({
    name: 'sandbox start',
    status: 'ok',
    durationMs: performance.now() - t,
    detail: `1 worker ready (time limit ${executor.limits.timeoutMs / 1000} s, memory ${executor.limits.memoryMb} MB)`,
  });
  return { value: executor };
}

const SMOKE_IDENTITY = (): AgentIdentity => ({
  agentId: `${SMOKE_AGENT.role}-${randomBytes(4).toString('hex')}`,
  role: SMOKE_AGENT.role,
  capabilities: [...SMOKE_AGENT.capabilities],
  systemPrompt: SMOKE_AGENT.systemPrompt,
  tools: new Map(),
});

interface PipelineRun {
  agent: AgentIdentity;
  /** The store the task wrote to; closed by the result-log stage. */
  storage: Storage;
  registry: CodeRegistry;
  /** The registry's store, its registrations timed. */
  registrations: TimedRegistryStore;
  results: TimedResults;
  /** What the pipeline threw (a store or the sandbox failed underneath it), or null. */
  thrown: unknown;
}

/** Stages 4-7 run as one: the real pipeline (`runTask`) for the smoke task, its parts observed. */
async function runPipelineStage(
  smoke: Smoke,
  ready: SettingsReady,
  model: CodeModel,
  executor: Executor,
): Promise<PipelineRun> {
  const { io, json } = smoke;
  let storage: Storage;
  try {
    storage = openSqliteStorage(databasePath(ready.logRoot), `LOG_DIRECTORY=${ready.settings.LOG_DIRECTORY}`);
  } catch (err) {
    await executor.close().catch(() => {});
    throw err;
  }
  const registrations = new TimedRegistryStore(storage.registry, smoke.probe);
  const registry = new CodeRegistry(registrations);
  const results = new TimedResults(storage.results, smoke.probe);
  const runtime: AgentRuntime = {
    settings: ready.settings,
    model,
    executor: wrapExecutor(executor, keepExecutions(smoke.probe)),
    registry,
    results,
    prompts: ready.prompts,
    stopSignal: new AbortController().signal,
    track: <T>(work: Promise<T>): Promise<T> => work,
  };
  const agent = SMOKE_IDENTITY();
  const spin =
    json || !io.tty
      ? null
      : spinner(io, `the calculator agent is at work (asking ${model.models[0]?.provider ?? 'the model'} for code)…`);
  let thrown: unknown = null;
  try {
    smoke.envelope = await runTask(agent, runtime, { task: SMOKE_TASK });
  } catch (err) {
    thrown = err;
  } finally {
    if (spin) {
      spin.stop('');
      io.out.write('\x1b[1A\x1b[2K');
    }
    await executor.close().catch(() => {});
  }
  return { agent, storage, registry, registrations, results, thrown };
}

/** What the model calls came to, for the code-generation stage. */
function generationSummary(probe: SmokeProbe): {
  durationMs: number;
  detail: string;
  data: Record<string, unknown>;
  used: string[];
} {
  const calls = probe.calls;
  const answered = calls.filter((c) => c.ok);
  const tokens = answered.reduce(
    (sum, c) => ({ input: sum.input + c.tokens.input, output: sum.output + c.tokens.output }),
    { input: 0, output: 0 },
  );
  const used = [...new Set(answered.map((c) => `${c.provider} / ${c.model}`))];
  const retried = calls.flatMap((c) => c.failures);
  const cost = answered.some((c) => c.costUsd === null) ? null : answered.reduce((sum, c) => sum + (c.costUsd ?? 0), 0);
  const detail =
    calls.length === 0
      ? 'no LLM call'
      : answered.length === 0
        ? `${plural(calls.length, 'LLM call')}, none answered`
        : `${plural(calls.length, 'LLM call')}${used.length ? `: ${used.join(', ')}` : ''}, `
          + `${tokens.input + tokens.output} tokens (${tokens.input} in, ${tokens.output} out), `
          + `${cost === null ? 'cost unknown (model not in the price table)' : `$${cost.toFixed(6)}`}`
          + `${retried.length ? `; ${plural(retried.length, 'failed try')} retried or failed over (${[...new Set(retried.map((f) => `${f.provider} ${f.kind}`))].join(', ')})` : ''}`;
  return {
    durationMs: calls.reduce((sum, c) => sum + c.durationMs, 0),
    detail,
    used,
    data: { calls: calls.length, providers: used, tokens, costUsd: cost, retries: retried.length },
  };
}

function executionMs(probe: SmokeProbe): number {
  return probe.runs.reduce((sum, r) => sum + r.durationMs, 0);
}

/** The pipeline threw: the stages before the one that threw passed, that one failed, the rest did not run. */
function reportThrown(smoke: Smoke, run: PipelineRun, logRoot: string): Outcome {
  const { stages, probe } = smoke;
  const message = run.thrown instanceof Error ? run.thrown.message : String(run.thrown);
  const stage = probe.threwIn ?? 'code generation';
  const upTo = SMOKE_STAGES.indexOf(stage);
  if (upTo > SMOKE_STAGES.indexOf('code generation')) {
    const generation = generationSummary(probe);
    stages.add({
      name: 'code generation',
      status: 'ok',
      durationMs: generation.durationMs,
      detail: generation.detail,
      data: generation.data,
    });
  }
  if (upTo > SMOKE_STAGES.indexOf('execution')) {
    stages.add({
      name: 'execution',
      status: 'ok',
      durationMs: executionMs(probe),
      detail: plural(probe.runs.length, 'run'),
    });
  }
  if (upTo > SMOKE_STAGES.indexOf('registry')) {
    stages.add({
      name: 'registry',
      status: 'ok',
      durationMs: run.registrations.registered.reduce((s, r) => s + r.durationMs, 0),
      detail: 'registered',
    });
  }
  const storageStage = stage === 'registry' || stage === 'result log';
  return stages.fail(stage, null, message, {
    error: message,
    nextSteps: storageStage
      ? STORAGE_STEPS(logRoot)
      : [
          'automesh check runs the sandbox self-test and checks the providers',
          'set AUTOMESH_DEBUG=1 for the stack trace',
        ],
  });
}

/** Stage 4: code generation: the model calls, and whether their code worked. */
function reportGeneration(smoke: Smoke, env: Envelope): void {
  const generation = generationSummary(smoke.probe);
  const base = { name: 'code generation' as const, durationMs: generation.durationMs, data: generation.data };
  if (env.status === 'success') {
    smoke.stages.add({ ...base, status: 'ok', detail: generation.detail });
  } else if (env.errorCategory === 'llm') {
    smoke.stages.add({ ...base, status: 'fail', detail: `${generation.detail}; every provider failed` });
  } else {
    const tries = smoke.probe.runs.length || smoke.probe.calls.length;
    smoke.stages.add({
      ...base,
      status: 'fail',
      detail: `${generation.detail}; the model's code failed ${plural(tries, 'time')}`,
    });
  }
}

/** Stage 5: execution: what the sandbox runs came to. */
function reportExecution(smoke: Smoke, env: Envelope): void {
  const runs = smoke.probe.runs;
  const execMs = executionMs(smoke.probe);
  const success = env.status === 'success';
  const categories = runs.map((r) => r.errorCategory ?? 'ok');
  const runsDetail = `${plural(runs.length, 'run')}${runs.length > 1 || !success ? ` (${categories.join(', ')})` : ''}`;
  if (success && env.output === SMOKE_EXPECTED) {
    smoke.stages.add({
      name: 'execution',
      status: 'ok',
      durationMs: execMs,
      detail: `${runsDetail}: output ${JSON.stringify(env.output)}`,
    });
  } else if (success) {
    smoke.stages.add({
      name: 'execution',
      status: 'fail',
      durationMs: execMs,
      detail: `${runsDetail}: output ${JSON.stringify(env.output)}, expected ${SMOKE_EXPECTED}`,
    });
  } else if (runs.length === 0) {
    smoke.stages.add({ name: 'execution', status: 'skipped', durationMs: null, detail: 'no code to run' });
  } else {
    smoke.stages.add({
      name: 'execution',
      status: 'warn',
      durationMs: execMs,
      detail: `${runsDetail}: the sandbox ran the code, the code failed`,
    });
  }
}

/** Stage 6: registry: the code was registered and is found again by lookup (wrong code is removed again). */
async function reportRegistry(smoke: Smoke, env: Envelope, run: PipelineRun): Promise<void> {
  if (!env.functionId) {
    smoke.stages.add({
      name: 'registry',
      status: 'skipped',
      durationMs: null,
      detail: 'nothing registered: no code worked',
    });
    return;
  }
  const { registry } = run;
  const lookupStarted = performance.now();
  const found = await registry.lookup(registryLookupFor(run.agent, { task: SMOKE_TASK }));
  const registerMs = run.registrations.registered.reduce((s, r) => s + r.durationMs, 0);
  const lookupMs = performance.now() - lookupStarted;
  const base = {
    name: 'registry' as const,
    durationMs: registerMs + lookupMs,
    data: { functionId: env.functionId, foundId: found?.id ?? null, registerMs, lookupMs },
  };
  if (!(env.status === 'success' && env.output === SMOKE_EXPECTED)) {
    // Wrong code must not be reused by later runs of this task.
    await registry.remove(env.functionId).catch(() => false);
    smoke.stages.add({
      ...base,
      status: 'warn',
      detail: `registered ${env.functionId}, then removed it: its answer is wrong`,
    });
  } else if (found?.id === env.functionId) {
    smoke.stages.add({
      ...base,
      status: 'ok',
      detail: `registered ${env.functionId} (${found.stage}, ${plural(found.successCount, 'success')}), found again by lookup`,
    });
  } else if (found) {
    smoke.stages.add({
      ...base,
      status: 'ok',
      detail: `registered ${env.functionId}; lookup returns ${found.id}, an earlier entry for this task with more successes`,
    });
  } else {
    smoke.stages.add({
      ...base,
      status: 'fail',
      detail: `registered ${env.functionId}, but lookup did not find it again`,
    });
  }
}

/** Stage 7: result log: the task's result is in the store (the database file). Returns whether it is. */
async function reportResultLog(smoke: Smoke, env: Envelope, run: PipelineRun): Promise<boolean> {
  const saved = run.results.saved.at(-1);
  // The database file that holds the result (`resultFile` in --json).
  const file = run.storage.location;
  const written =
    saved !== undefined && (await run.storage.results.get(env.resultId, run.agent.role).catch(() => null)) !== null;
  await run.storage.close();
  smoke.stages.add({
    name: 'result log',
    status: written ? 'ok' : 'fail',
    durationMs: saved?.durationMs ?? null,
    detail: `result ${env.resultId} ${written ? 'written to' : 'was not written to'} ${shown(file, smoke.io.cwd)}`,
    data: { resultId: env.resultId, file },
  });
  smoke.resultFile = written ? file : null;
  return written;
}

/** The verdict: passed, or which stage failed and what to do about it. */
function verdict(
  smoke: Smoke,
  env: Envelope,
  model: CodeModel,
  settings: Settings,
  logRoot: string,
  written: boolean,
): Outcome {
  const logsShow = `automesh logs show ${env.resultId}`;
  const answered = smoke.probe.calls.filter((c) => c.ok);
  const lastProvider = (answered.at(-1)?.provider ?? model.models[0]?.provider ?? 'claude') as ProviderName;
  const modelVar = providerDefinition(lastProvider).modelSetting;
  if (env.status === 'success' && env.output === SMOKE_EXPECTED) {
    const registryOk = smoke.stages.status('registry') === 'ok';
    if (registryOk && written) {
      return {
        ok: true,
        failedStage: null,
        error: null,
        nextSteps: [
          `${logsShow}: the task's envelope, code and attempts`,
          `automesh registry show ${env.functionId}: the registered code with its provenance`,
          'automesh init my-project: a runnable project with your own agents',
        ],
      };
    }
    return {
      ok: false,
      failedStage: registryOk ? 'result log' : 'registry',
      error: registryOk ? 'the result log was not written' : 'the registered code was not found again',
      nextSteps: STORAGE_STEPS(logRoot),
    };
  }
  if (env.status === 'success') {
    return {
      ok: false,
      failedStage: 'execution',
      error: `the model's code ran, but its answer was ${JSON.stringify(env.output)}, not ${SMOKE_EXPECTED}.`,
      lastCode: env.code,
      nextSteps: [`try a stronger model (set ${modelVar})`, `${logsShow}: the code the model wrote`],
    };
  }
  if (env.errorCategory === 'llm') {
    return {
      ok: false,
      failedStage: 'code generation',
      error: env.error ?? 'every LLM provider failed',
      nextSteps: [
        'automesh check --validate-llm: calls each provider and says why it fails (auth, unknown model, unreachable, timeout)',
        `${logsShow}: the attempts`,
      ],
    };
  }
  const tries = env.attempts.length;
  const maxRepairs = settings.MAX_REPAIR_ATTEMPTS;
  return {
    ok: false,
    failedStage: 'code generation',
    error:
      `the model's code failed ${plural(tries, 'time')} (1 try + ${plural(Math.max(0, tries - 1), 'repair')}, `
      + `MAX_REPAIR_ATTEMPTS=${maxRepairs}). Last error (${env.errorCategory ?? 'runtime'}): ${firstLine(env.error ?? 'unknown')}`,
    lastCode: env.attempts.at(-1)?.code ?? null,
    nextSteps: [
      `try a stronger model (set ${modelVar}; the last code came from ${generationSummary(smoke.probe).used.at(-1) ?? lastProvider})`,
      `${logsShow}: every attempt's code and error`,
      ...(env.errorCategory === 'crashed' ? [categoryHint('crashed') as string] : []),
      `or allow more repairs: MAX_REPAIR_ATTEMPTS (now ${maxRepairs})`,
    ],
  };
}

/** Prints the result (or the JSON object) and gives the exit code. */
function finish(smoke: Smoke, outcome: Outcome): number {
  const durationMs = performance.now() - smoke.started;
  const { envelope } = smoke;
  if (smoke.json) {
    printJson(smoke.io, {
      ok: outcome.ok,
      task: SMOKE_TASK,
      expected: SMOKE_EXPECTED,
      output: envelope?.status === 'success' ? envelope.output : null,
      registryReuse: false,
      resultId: envelope?.resultId ?? null,
      functionId: envelope?.functionId ?? null,
      resultFile: smoke.resultFile,
      failedStage: outcome.failedStage,
      error: outcome.error,
      lastCode: outcome.lastCode ?? null,
      nextSteps: outcome.nextSteps,
      stages: smoke.stages.list,
      llmCalls: smoke.probe.calls,
      executions: smoke.probe.runs.map((r) => ({
        status: r.status,
        output: r.output,
        errorCategory: r.errorCategory,
        error: r.error,
        durationMs: r.durationMs,
      })),
      durationMs,
    });
  } else {
    printOutcome(smoke.io, outcome, durationMs);
  }
  return outcome.ok ? 0 : 1;
}

function printIntro(io: Io): void {
  println(
    io,
    `${paint(io, 'bold', 'automesh smoketest')}: a calculator agent computes "2 + 2" through the provider chain, the sandbox, the registry and the result log.`,
  );
  println(
    io,
    paint(io, 'gray', `Task "${SMOKE_TASK}"; REGISTRY_REUSE is off for this task, so the model is really called.`),
  );
  println(io, '');
}

const OPTIONS = { json: { type: 'boolean', default: false } } as const;

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('smoketest', { args, options: OPTIONS });
  const smoke: Smoke = {
    io,
    json: values.json,
    started: performance.now(),
    stages: new Stages(io, values.json),
    probe: smokeProbe(),
    envelope: null,
    resultFile: null,
  };
  if (!smoke.json) printIntro(io);

  const ready = loadSettingsStage(smoke);
  if ('failed' in ready) return finish(smoke, ready.failed);
  const { settings, logRoot } = ready.value;
  const model = buildModelStage(smoke, settings);
  if ('failed' in model) return finish(smoke, model.failed);
  const executor = await startSandboxStage(smoke, settings);
  if ('failed' in executor) return finish(smoke, executor.failed);

  const ran = await runPipelineStage(smoke, ready.value, model.value, executor.value);
  const env = smoke.envelope;
  if (ran.thrown !== null || env === null) {
    await ran.storage.close().catch(() => {});
    return finish(smoke, reportThrown(smoke, ran, logRoot));
  }
  reportGeneration(smoke, env);
  reportExecution(smoke, env);
  await reportRegistry(smoke, env, ran);
  const written = await reportResultLog(smoke, env, ran);
  return finish(smoke, verdict(smoke, env, model.value, settings, logRoot, written));
}

export const smoketestCommand: Command = {
  name: 'smoketest',
  help: HELP,
  options: OPTIONS,
  run,
};
