/**
 * `automesh smoketest [--json]`: the whole path once. A calculator agent computes "2 + 2" through the real
 * provider chain, sandbox, code registry and result log (the `runTask` pipeline agents use), each stage timed.
 * Exit 0 only when the answer is 4; otherwise the failing stage and what to do.
 */
import { randomBytes } from 'node:crypto';
import { relative, resolve, sep } from 'node:path';
import { registryLookupFor, runTask, type AgentIdentity, type AgentRuntime } from '../../agent/pipeline.js';
import type { Envelope } from '../../agent/envelope.js';
import { loadPromptTemplates, type PromptTemplates } from '../../codegen/prompts.js';
import { sandboxSettingsOf } from '../../config/sandbox-settings.js';
import { SettingsError, type ProviderName, type Settings } from '../../config/settings.js';
import { NoProviderError } from '../../llm/errors.js';
import { databasePath, openSqliteStorage, type Storage } from '../../storage/index.js';
import type { Command } from '../command.js';
import { parseVerbArgs } from '../args.js';
import { ms, paint, printJson, println, spinner, type Io } from '../io.js';
import { safeText } from '../terminal-text.js';
import { providerDefinition, providerSetupLines } from '../../llm/providers/index.js';
import { SANDBOX_HINT } from '../self-test.js';
import { cliSettings } from '../setup.js';
import {
  TimedChain, TimedExecutor, TimedRegistry, TimedResults, type SmokeStage, type StageTracker,
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

const ORDER: SmokeStage[] = ['settings', 'provider chain', 'sandbox start', 'code generation', 'execution', 'registry', 'result log'];

type Status = 'ok' | 'fail' | 'warn' | 'skipped';

interface StageReport {
  name: SmokeStage;
  status: Status;
  durationMs: number | null;
  detail: string;
  data?: Record<string, unknown>;
}

function badge(io: Io, status: Status): string {
  const text = io.tty
    ? { ok: '✔', fail: '✖', warn: '!', skipped: '-' }[status]
    : { ok: 'ok', fail: 'FAIL', warn: 'warn', skipped: 'skip' }[status];
  const style = ({ ok: 'green', fail: 'red', warn: 'yellow', skipped: 'gray' } as const)[status];
  return paint(io, style, text.padEnd(io.tty ? 1 : 4));
}

function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function firstLine(text: string, width = 300): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

class Stages {
  readonly list: StageReport[] = [];

  constructor(private readonly io: Io, private readonly json: boolean) {}

  add(stage: StageReport): void {
    this.list.push(stage);
    if (this.json) return;
    const time = stage.durationMs === null ? '' : ms(stage.durationMs);
    // The detail may quote the model (its error, its output): shown safe, then painted.
    const detail = stage.status === 'skipped' ? paint(this.io, 'gray', safeText(stage.detail)) : safeText(stage.detail);
    println(this.io, `  ${badge(this.io, stage.status)} ${stage.name.padEnd(15)} ${time.padStart(8)}  ${detail}`);
  }

  /** Every stage not reported yet, as skipped. */
  skipRest(reason: string): void {
    for (const name of ORDER) {
      if (!this.list.some((s) => s.name === name)) this.add({ name, status: 'skipped', durationMs: null, detail: reason });
    }
  }
}

interface Outcome {
  ok: boolean;
  failedStage: SmokeStage | null;
  error: string | null;
  nextSteps: string[];
  /** The model's last code, when it was wrong. */
  lastCode?: string | null;
}

const OPTIONS = { json: { type: 'boolean', default: false } } as const;

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('smoketest', { args, options: OPTIONS });
  const json = values.json;
  const started = performance.now();
  const stages = new Stages(io, json);
  const tracker: StageTracker = { threwIn: null };
  let envelope: Envelope | null = null;
  let resultFile: string | null = null;
  let chain: TimedChain | null = null;
  let executor: TimedExecutor | null = null;

  if (!json) {
    println(io, `${paint(io, 'bold', 'automesh smoketest')}: a calculator agent computes "2 + 2" through the provider chain, the sandbox, the registry and the result log.`);
    println(io, paint(io, 'gray', `Task "${SMOKE_TASK}"; REGISTRY_REUSE is off for this task, so the model is really called.`));
    println(io, '');
  }

  const finish = (outcome: Outcome): number => {
    const durationMs = performance.now() - started;
    if (json) {
      printJson(io, {
        ok: outcome.ok,
        task: SMOKE_TASK,
        expected: SMOKE_EXPECTED,
        output: envelope?.status === 'success' ? envelope.output : null,
        registryReuse: false,
        resultId: envelope?.resultId ?? null,
        functionId: envelope?.functionId ?? null,
        resultFile,
        failedStage: outcome.failedStage,
        error: outcome.error,
        lastCode: outcome.lastCode ?? null,
        nextSteps: outcome.nextSteps,
        stages: stages.list,
        llmCalls: chain?.calls ?? [],
        executions: (executor?.runs ?? []).map((r) => ({
          status: r.status, output: r.output, errorCategory: r.errorCategory, error: r.error, durationMs: r.durationMs,
        })),
        durationMs,
      });
      return outcome.ok ? 0 : 1;
    }
    println(io, '');
    if (outcome.ok) {
      println(io, `${paint(io, 'green', 'PASS')}: the calculator agent computed 2 + 2 = 4 in ${ms(durationMs)}.`);
    } else {
      println(io, `${paint(io, 'red', 'FAIL')} at stage "${outcome.failedStage ?? '?'}": ${safeText(outcome.error ?? 'unknown error')}`);
      if (outcome.lastCode) {
        const lines = safeText(outcome.lastCode).split('\n');
        println(io, '');
        println(io, 'The last code the model wrote:');
        for (const line of lines.slice(0, 15)) println(io, paint(io, 'gray', `    ${line}`));
        if (lines.length > 15) println(io, paint(io, 'gray', `    … (${lines.length - 15} more lines)`));
      }
    }
    println(io, '');
    println(io, paint(io, 'bold', outcome.ok ? 'Next steps:' : 'What to do:'));
    outcome.nextSteps.forEach((step, i) => println(io, `  ${i + 1}. ${step}`));
    return outcome.ok ? 0 : 1;
  };

  // 1. Settings
  let t = performance.now();
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
    stages.add({ name: 'settings', status: 'fail', durationMs: performance.now() - t, detail: message });
    stages.skipRest('not run: the settings failed');
    return finish({
      ok: false, failedStage: 'settings', error: message,
      nextSteps: [
        err instanceof SettingsError
          ? 'fix the settings named above, in the environment or .env (.env.example documents every setting)'
          : 'fix the prompt templates or unset PROMPT_DIRECTORY',
        'automesh check lists every setting and what is wrong',
      ],
    });
  }
  const logRoot = resolve(io.cwd, settings.LOG_DIRECTORY);
  stages.add({
    name: 'settings', status: 'ok', durationMs: performance.now() - t,
    detail: `${envFile ? `.env loaded (${envFile})` : 'no .env'}, LOG_DIRECTORY ${shown(logRoot, io.cwd)}, REGISTRY_REUSE off for this task`,
    data: { envFile, logDirectory: logRoot, registryReuse: false },
  });

  // 2. Provider chain
  t = performance.now();
  try {
    chain = new TimedChain(settings, tracker);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const none = err instanceof NoProviderError;
    stages.add({
      name: 'provider chain', status: 'fail', durationMs: performance.now() - t,
      detail: none ? 'no LLM provider is configured' : message,
    });
    stages.skipRest('not run: no provider chain');
    return finish({
      ok: false, failedStage: 'provider chain',
      error: none ? 'No LLM provider is configured.' : message,
      nextSteps: none
        ? [
          `set the variables of at least one provider, in the environment or in .env:\n${providerSetupLines().map((l) => `       ${l}`).join('\n')}`,
          'automesh check shows what is configured; automesh check --validate-llm calls each provider',
        ]
        : ['fix the provider settings named above; automesh check shows each provider'],
    });
  }
  const order = chain.providers.map((p) => `${p.name} (${p.model})`);
  stages.add({
    name: 'provider chain', status: 'ok', durationMs: performance.now() - t,
    detail: chain.replaying
      ? `replaying AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}`
      : `${order.join(' → ')}; ${settings.LLM_MAX_RETRIES > 0 ? `transient errors retried ${settings.LLM_MAX_RETRIES}× with backoff` : 'no retries (LLM_MAX_RETRIES=0)'}, ` +
        `LLM_TIMEOUT ${settings.LLM_TIMEOUT} s`,
    data: { providers: chain.providers.map((p) => ({ name: p.name, model: p.model })), replaying: chain.replaying },
  });

  // 3. Sandbox start (one worker is enough for one task)
  t = performance.now();
  try {
    executor = new TimedExecutor({ settings: sandboxSettingsOf(settings), workers: 1 }, tracker);
    await executor.warm();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await executor?.close().catch(() => {});
    stages.add({ name: 'sandbox start', status: 'fail', durationMs: performance.now() - t, detail: message });
    stages.skipRest('not run: the sandbox did not start');
    return finish({
      ok: false, failedStage: 'sandbox start', error: message,
      nextSteps: ['automesh check runs the sandbox self-test and says what is wrong', SANDBOX_HINT],
    });
  }
  stages.add({
    name: 'sandbox start', status: 'ok', durationMs: performance.now() - t,
    detail: `1 worker ready (time limit ${executor.limits.timeoutMs / 1000} s, memory ${executor.limits.memoryMb} MB)`,
  });

  // 4-7. The real pipeline, every part timed
  let storage: Storage;
  try {
    storage = openSqliteStorage(databasePath(logRoot), `LOG_DIRECTORY=${settings.LOG_DIRECTORY}`);
  } catch (err) {
    await executor.close().catch(() => {});
    throw err;
  }
  const registry = new TimedRegistry(storage.registry, tracker);
  const results = new TimedResults(storage.results, tracker);
  const stop = new AbortController();
  const runtime: AgentRuntime = {
    settings, chain, executor, registry, results, prompts,
    stopSignal: stop.signal,
    track: <T>(work: Promise<T>): Promise<T> => work,
  };
  const agent: AgentIdentity = {
    agentId: `${SMOKE_AGENT.role}-${randomBytes(4).toString('hex')}`,
    role: SMOKE_AGENT.role,
    capabilities: [...SMOKE_AGENT.capabilities],
    systemPrompt: SMOKE_AGENT.systemPrompt,
    tools: new Map(),
  };
  const spin = json || !io.tty ? null : spinner(io, `the calculator agent is at work (asking ${chain.providers[0]?.name ?? 'the model'} for code)…`);
  let thrown: unknown = null;
  try {
    envelope = await runTask(agent, runtime, { task: SMOKE_TASK });
  } catch (err) {
    thrown = err;
  } finally {
    if (spin) {
      spin.stop('');
      io.out.write('\x1b[1A\x1b[2K');
    }
    await executor.close().catch(() => {});
  }

  const calls = chain.calls;
  const answered = calls.filter((c) => c.ok);
  const llmMs = calls.reduce((sum, c) => sum + c.durationMs, 0);
  const tokens = answered.reduce((sum, c) => ({ input: sum.input + c.tokens.input, output: sum.output + c.tokens.output }), { input: 0, output: 0 });
  const used = [...new Set(answered.map((c) => `${c.provider} / ${c.model}`))];
  const retried = calls.flatMap((c) => c.failures);
  const cost = answered.some((c) => c.costUsd === null) ? null : answered.reduce((sum, c) => sum + (c.costUsd ?? 0), 0);
  const genDetail = calls.length === 0 ? 'no LLM call'
    : answered.length === 0 ? `${plural(calls.length, 'LLM call')}, none answered`
    : `${plural(calls.length, 'LLM call')}${used.length ? `: ${used.join(', ')}` : ''}, ` +
      `${tokens.input + tokens.output} tokens (${tokens.input} in, ${tokens.output} out), ` +
      `${cost === null ? 'cost unknown (model not in the price table)' : `$${cost.toFixed(6)}`}` +
      `${retried.length ? `; ${plural(retried.length, 'failed try')} retried or failed over (${[...new Set(retried.map((f) => `${f.provider} ${f.kind}`))].join(', ')})` : ''}`;
  const genData = { calls: calls.length, providers: used, tokens, costUsd: cost, retries: retried.length };
  const runs = executor.runs;
  const execMs = runs.reduce((sum, r) => sum + r.durationMs, 0);

  // The pipeline threw: a store or the sandbox failed underneath it.
  if (thrown !== null || envelope === null) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const stage = tracker.threwIn ?? 'code generation';
    const upTo = ORDER.indexOf(stage);
    if (upTo > ORDER.indexOf('code generation')) stages.add({ name: 'code generation', status: 'ok', durationMs: llmMs, detail: genDetail, data: genData });
    if (upTo > ORDER.indexOf('execution')) stages.add({ name: 'execution', status: 'ok', durationMs: execMs, detail: plural(runs.length, 'run') });
    if (upTo > ORDER.indexOf('registry')) {
      stages.add({ name: 'registry', status: 'ok', durationMs: registry.registered.reduce((s, r) => s + r.durationMs, 0), detail: 'registered' });
    }
    stages.add({ name: stage, status: 'fail', durationMs: null, detail: message });
    stages.skipRest('not run');
    const storageStage = stage === 'registry' || stage === 'result log';
    return finish({
      ok: false, failedStage: stage, error: message,
      nextSteps: storageStage
        ? [`check that LOG_DIRECTORY (${logRoot}) is a folder automesh may write to`, 'automesh check tests the storage settings']
        : ['automesh check runs the sandbox self-test and checks the providers', 'set AUTOMESH_DEBUG=1 for the stack trace'],
    });
  }

  const env = envelope;
  const success = env.status === 'success';
  const rightAnswer = success && env.output === SMOKE_EXPECTED;
  const llmFailed = env.errorCategory === 'llm';
  const maxRepairs = settings.MAX_REPAIR_ATTEMPTS;
  const lastProvider = (answered.at(-1)?.provider ?? chain.providers[0]?.name ?? 'claude') as ProviderName;
  const modelVar = providerDefinition(lastProvider).modelSetting;

  // 4. Code generation
  let outcome: Outcome;
  if (success) {
    stages.add({ name: 'code generation', status: 'ok', durationMs: llmMs, detail: genDetail, data: genData });
  } else if (llmFailed) {
    stages.add({ name: 'code generation', status: 'fail', durationMs: llmMs, detail: `${genDetail}; every provider failed`, data: genData });
  } else {
    stages.add({
      name: 'code generation', status: 'fail', durationMs: llmMs,
      detail: `${genDetail}; the model's code failed ${plural(runs.length || calls.length, 'time')}`, data: genData,
    });
  }

  // 5. Execution
  const categories = runs.map((r) => r.errorCategory ?? 'ok');
  const runsDetail = `${plural(runs.length, 'run')}${runs.length > 1 || !success ? ` (${categories.join(', ')})` : ''}`;
  if (rightAnswer) {
    stages.add({ name: 'execution', status: 'ok', durationMs: execMs, detail: `${runsDetail}: output ${JSON.stringify(env.output)}` });
  } else if (success) {
    stages.add({ name: 'execution', status: 'fail', durationMs: execMs, detail: `${runsDetail}: output ${JSON.stringify(env.output)}, expected ${SMOKE_EXPECTED}` });
  } else if (runs.length === 0) {
    stages.add({ name: 'execution', status: 'skipped', durationMs: null, detail: 'no code to run' });
  } else {
    stages.add({ name: 'execution', status: 'warn', durationMs: execMs, detail: `${runsDetail}: the sandbox ran the code, the code failed` });
  }

  // 6. Registry: registered, and found again by lookup
  if (env.functionId) {
    const lookupStarted = performance.now();
    const found = await registry.lookup(registryLookupFor(agent, { task: SMOKE_TASK }));
    const registerMs = registry.registered.reduce((s, r) => s + r.durationMs, 0);
    const lookupMs = performance.now() - lookupStarted;
    const data = { functionId: env.functionId, foundId: found?.id ?? null, registerMs, lookupMs };
    if (!rightAnswer) {
      // Wrong code must not be reused by later runs of this task.
      await registry.remove(env.functionId).catch(() => false);
      stages.add({
        name: 'registry', status: 'warn', durationMs: registerMs + lookupMs,
        detail: `registered ${env.functionId}, then removed it: its answer is wrong`, data,
      });
    } else if (found?.id === env.functionId) {
      stages.add({
        name: 'registry', status: 'ok', durationMs: registerMs + lookupMs,
        detail: `registered ${env.functionId} (${found.stage}, ${plural(found.successCount, 'success')}), found again by lookup`, data,
      });
    } else if (found) {
      stages.add({
        name: 'registry', status: 'ok', durationMs: registerMs + lookupMs,
        detail: `registered ${env.functionId}; lookup returns ${found.id}, an earlier entry for this task with more successes`, data,
      });
    } else {
      stages.add({
        name: 'registry', status: 'fail', durationMs: registerMs + lookupMs,
        detail: `registered ${env.functionId}, but lookup did not find it again`, data,
      });
    }
  } else {
    stages.add({ name: 'registry', status: 'skipped', durationMs: null, detail: 'nothing registered: no code worked' });
  }

  // 7. Result log
  const saved = results.saved.at(-1);
  // The database file that holds the result (`resultFile` in --json).
  resultFile = storage.location;
  const written = saved !== undefined && (await storage.results.get(env.resultId, agent.role).catch(() => null)) !== null;
  await storage.close();
  stages.add({
    name: 'result log', status: written ? 'ok' : 'fail', durationMs: saved?.durationMs ?? null,
    detail: `result ${env.resultId} ${written ? 'written to' : 'was not written to'} ${shown(resultFile, io.cwd)}`,
    data: { resultId: env.resultId, file: resultFile },
  });
  if (!written) resultFile = null;

  const logsShow = `automesh logs show ${env.resultId}`;
  if (rightAnswer) {
    const registryOk = stages.list.find((s) => s.name === 'registry')?.status === 'ok';
    outcome = registryOk && written
      ? {
        ok: true, failedStage: null, error: null,
        nextSteps: [
          `${logsShow}: the task's envelope, code and attempts`,
          `automesh registry show ${env.functionId}: the registered code with its provenance`,
          'automesh init my-project: a runnable project with your own agents',
        ],
      }
      : {
        ok: false, failedStage: registryOk ? 'result log' : 'registry',
        error: registryOk ? 'the result log was not written' : 'the registered code was not found again',
        nextSteps: [`check that LOG_DIRECTORY (${logRoot}) is a folder automesh may write to`, 'automesh check tests the storage settings'],
      };
  } else if (success) {
    outcome = {
      ok: false, failedStage: 'execution',
      error: `the model's code ran, but its answer was ${JSON.stringify(env.output)}, not ${SMOKE_EXPECTED}.`,
      lastCode: env.code,
      nextSteps: [
        `try a stronger model (set ${modelVar})`,
        `${logsShow}: the code the model wrote`,
      ],
    };
  } else if (llmFailed) {
    outcome = {
      ok: false, failedStage: 'code generation', error: env.error ?? 'every LLM provider failed',
      nextSteps: [
        'automesh check --validate-llm: calls each provider and says why it fails (auth, unknown model, unreachable, timeout)',
        `${logsShow}: the attempts`,
      ],
    };
  } else {
    const tries = env.attempts.length;
    outcome = {
      ok: false, failedStage: 'code generation',
      error: `the model's code failed ${plural(tries, 'time')} (1 try + ${plural(Math.max(0, tries - 1), 'repair')}, ` +
        `MAX_REPAIR_ATTEMPTS=${maxRepairs}). Last error (${env.errorCategory ?? 'runtime'}): ${firstLine(env.error ?? 'unknown')}`,
      lastCode: env.attempts.at(-1)?.code ?? null,
      nextSteps: [
        `try a stronger model (set ${modelVar}; the last code came from ${used.at(-1) ?? lastProvider})`,
        `${logsShow}: every attempt's code and error`,
        ...(env.errorCategory === 'crashed' ? ['automesh check: the sandbox self-test'] : []),
        `or allow more repairs: MAX_REPAIR_ATTEMPTS (now ${maxRepairs})`,
      ],
    };
  }
  return finish(outcome);
}

export const smoketestCommand: Command = {
  name: 'smoketest',
  help: HELP,
  options: OPTIONS,
  run,
};
