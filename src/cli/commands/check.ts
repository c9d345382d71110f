/**
 * `automesh check [--validate-llm] [--json] [--verbose]`: is this machine ready? Node.js, the sandbox (a real
 * self-test), `.env`, each provider (keys masked), optionally one live call per provider, sandbox and storage
 * settings; then a summary and the next steps. Exit 1 on any problem.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_PROMPT_DIRECTORY, loadPromptTemplates } from '../../codegen/prompts.js';
import { readEnvFile } from '../../config/env-file.js';
import { sandboxSettingsOf, type SandboxSettings } from '../../config/sandbox-settings.js';
import {
  knownSettingNames, loadSettings, maskSecret, SECRET_SETTINGS, settingsSchema, SettingsError, unknownSettingNames, type Settings,
} from '../../config/settings.js';
import { providerSetupLines } from '../../llm/providers/index.js';
import { agentsFileFor, checkAgentRoutes } from '../agent-routes.js';
import type { Command } from '../command.js';
import { parseVerbArgs } from '../args.js';
import { ms, paint, printJson, println, spinner, type Io } from '../io.js';
import {
  displayUrl, liveCheck, providerStatuses, settingSource,
  type LiveCheck, type ProviderStatus,
} from '../provider-check.js';
import { CONFINEMENT_HINT, SANDBOX_HINT, sandboxSelfTest, type SandboxProbe, type SandboxSelfTest } from '../self-test.js';
import { cliSettings } from '../setup.js';
import { safeText } from '../terminal-text.js';

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

export const MIN_NODE_MAJOR = 20;

type Status = 'ok' | 'warn' | 'fail' | 'info' | 'skip';
type Section = 'node' | 'settings' | 'sandbox' | 'providers' | 'llm' | 'agents' | 'storage';

const SECTION_TITLES: Record<Section, string> = {
  node: 'Node.js',
  settings: 'Settings',
  sandbox: 'Sandbox (isolated-vm self-test)',
  providers: 'LLM providers',
  llm: 'Live calls (--validate-llm)',
  agents: 'Agents: providers and models',
  storage: 'Sandbox and storage settings',
};

export interface CheckItem {
  section: Section;
  id: string;
  status: Status;
  message: string;
  /** What to do about a problem. */
  hint?: string;
  durationMs?: number;
  /** Lines shown under the item (always for problems, otherwise with --verbose). */
  details?: string[];
}

/** Same symbols as io.mark, padded before painting so that columns line up. */
function badge(io: Io, status: Status): string {
  const text = io.tty
    ? { ok: '✔', fail: '✖', warn: '!', info: '•', skip: '-' }[status]
    : { ok: 'ok', fail: 'FAIL', warn: 'warn', info: '-', skip: 'skip' }[status];
  const style = ({ ok: 'green', fail: 'red', warn: 'yellow', info: 'cyan', skip: 'gray' } as const)[status];
  return paint(io, style, text.padEnd(io.tty ? 1 : 4));
}

class Reporter {
  readonly items: CheckItem[] = [];
  private shown: Section | null = null;

  constructor(private readonly io: Io, private readonly json: boolean, private readonly verbose: boolean) {}

  add(item: CheckItem): CheckItem {
    this.items.push(item);
    if (this.json) return item;
    const { io } = this;
    if (this.shown !== item.section) {
      println(io, '');
      println(io, paint(io, 'bold', SECTION_TITLES[item.section]));
      this.shown = item.section;
    }
    const time = item.durationMs !== undefined && this.verbose ? paint(io, 'gray', `  (${ms(item.durationMs)})`) : '';
    println(io, `  ${badge(io, item.status)} ${item.message}${time}`);
    const pad = io.tty ? '    ' : '       ';
    if (item.details && (this.verbose || item.status === 'fail')) {
      for (const line of item.details) println(io, `${pad}${paint(io, 'gray', line)}`);
    }
    if (item.hint && (item.status === 'fail' || item.status === 'warn')) println(io, `${pad}${paint(io, 'yellow', `→ ${item.hint}`)}`);
    return item;
  }

  /** A spinner on a TTY; nothing otherwise. */
  busy(text: string): () => void {
    if (this.json || !this.io.tty) return () => {};
    const spin = spinner(this.io, text);
    // The spinner's final line is blank: the caller prints the result itself.
    return () => {
      spin.stop('');
      this.io.out.write('\x1b[1A\x1b[2K');
    };
  }
}

function checkNode(): { version: string; ok: boolean } {
  const version = process.versions.node;
  return { version, ok: Number(version.split('.')[0]) >= MIN_NODE_MAJOR };
}

const KNOWN_NAMES: ReadonlySet<string> = new Set(knownSettingNames());

/** Each setting's value for display (secrets masked) and where it came from. */
function settingValues(settings: Settings, source: (name: string) => string): Record<string, { value: unknown; source: string }> {
  const out: Record<string, { value: unknown; source: string }> = {};
  for (const name of Object.keys(settingsSchema.shape) as Array<keyof Settings>) {
    const raw = settings[name];
    let value: unknown = raw;
    if (SECRET_SETTINGS.has(name)) value = raw === undefined ? undefined : maskSecret(String(raw));
    else if (typeof raw === 'string' && /ENDPOINT$/.test(name)) value = displayUrl(raw);
    out[name] = { value: value ?? null, source: source(name) };
  }
  return out;
}

interface StorageReport {
  logDirectory: string;
  path: string;
  exists: boolean;
  writable: boolean;
  problem: string | null;
  registryReuse: boolean;
}

function checkStorage(settings: Settings, io: Io): StorageReport {
  const path = resolve(io.cwd, settings.LOG_DIRECTORY);
  const base = { logDirectory: settings.LOG_DIRECTORY, path, registryReuse: settings.REGISTRY_REUSE };
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) {
      return { ...base, exists: true, writable: false, problem: `${path} exists and is not a folder` };
    }
    try {
      accessSync(path, constants.W_OK);
      return { ...base, exists: true, writable: true, problem: null };
    } catch {
      return { ...base, exists: true, writable: false, problem: `${path} is not writable` };
    }
  }
  // Created on first write: the nearest existing parent must be writable.
  let parent = dirname(path);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
    return { ...base, exists: false, writable: true, problem: null };
  } catch {
    return { ...base, exists: false, writable: false, problem: `${path} does not exist and ${parent} is not writable` };
  }
}

function describeProbe(p: SandboxProbe): string {
  return p.ok ? `${p.label} → ${p.expected}` : `${p.label}: expected ${p.expected}, got ${p.got}`;
}

function describeProvider(p: ProviderStatus): Omit<CheckItem, 'section'> {
  const name = p.name.padEnd(6);
  const id = `provider.${p.name}`;
  if (p.problem) {
    return { id, status: 'fail', message: `${name}  half configured: ${p.problem}`, hint: `set both of ${p.needs}, or neither` };
  }
  if (!p.configured) {
    return {
      id, status: p.inOrder ? 'info' : 'skip',
      message: `${name}  not configured${p.inOrder ? ` (to use it, set ${p.needs})` : ', and not in LLM_PROVIDER_ORDER'}`,
    };
  }
  const key = !p.keyRequired && p.key === '(not set)'
    ? `no key (${p.keySetting} not set; fine when the server needs none)`
    : `key ${p.key}${p.keySource ? ` (from ${p.keySource})` : ''}`;
  const what = `model ${p.model}, ${key}, endpoint ${p.endpoint ?? '?'}`;
  if (!p.inOrder) {
    return {
      id, status: 'warn', message: `${name}  configured but not in LLM_PROVIDER_ORDER, so never called: ${what}`,
      hint: `add ${p.name} to LLM_PROVIDER_ORDER to use it`,
    };
  }
  return { id, status: 'ok', message: `${name}  configured: ${what}` };
}

function describeLive(c: LiveCheck): Omit<CheckItem, 'section'> {
  const name = c.provider.padEnd(6);
  if (c.ok) {
    const tokens = c.tokens ? `, ${c.tokens.input + c.tokens.output} tokens` : '';
    return {
      id: `llm.${c.provider}`, status: 'ok', durationMs: c.latencyMs,
      message: `${name}  ${c.model} answered in ${ms(c.latencyMs)}${tokens}: ${JSON.stringify(c.reply ?? '')}`,
      details: [`endpoint ${c.endpoint}`],
    };
  }
  return {
    id: `llm.${c.provider}`, status: 'fail', durationMs: c.latencyMs,
    message: `${name}  ${c.model} failed after ${ms(c.latencyMs)}: ${c.reason}${c.status ? ` (HTTP ${c.status})` : ''}: ${safeText(c.message ?? '')}`,
    hint: c.hint ?? undefined,
    details: [`endpoint ${c.endpoint}`, `failure kind ${c.kind ?? '?'}`],
  };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('check', { args, options: OPTIONS });
  const json = values.json;
  const verbose = values.verbose;
  const validate = values['validate-llm'];
  const started = performance.now();
  const report = new Reporter(io, json, verbose);
  if (!json) println(io, `${paint(io, 'bold', 'automesh check')}${validate ? ' --validate-llm' : ''}: is everything in place to run agents here?`);

  // Node.js
  const node = checkNode();
  report.add({
    section: 'node', id: 'node', status: node.ok ? 'ok' : 'fail',
    message: `Node.js ${node.version} (automesh needs ${MIN_NODE_MAJOR} or newer)`,
    hint: `install Node.js ${MIN_NODE_MAJOR} or newer (https://nodejs.org)`,
  });

  // .env and settings
  const envPath = join(io.cwd, '.env');
  const envFound = existsSync(envPath);
  let envVars: Record<string, string> = {};
  let envFileError: string | null = null;
  if (envFound) {
    try {
      envVars = readEnvFile(envPath);
    } catch (err) {
      envFileError = err instanceof Error ? err.message : String(err);
    }
  }
  const envNames = Object.keys(envVars);
  const ignored = envNames.filter((n) => !KNOWN_NAMES.has(n));
  if (!envFound) {
    report.add({
      section: 'settings', id: 'env-file', status: 'info',
      message: `no .env in ${io.cwd}: settings come from the environment only (that is fine)`,
    });
  } else if (envFileError) {
    report.add({
      section: 'settings', id: 'env-file', status: 'fail', message: `.env found at ${envPath} but unreadable: ${envFileError}`,
      hint: 'fix the file\'s permissions or its syntax (NAME=value lines)',
    });
  } else {
    const used = envNames.length - ignored.length;
    report.add({
      section: 'settings', id: 'env-file', status: 'ok',
      message: `.env found and loaded: ${envPath} (${used} automesh setting${used === 1 ? '' : 's'}` +
        `${ignored.length > 0 ? `; ${ignored.length} other name${ignored.length === 1 ? '' : 's'} ignored: ${ignored.join(', ')}` : ''}; ` +
        'the environment overrides it)',
      details: [`names: ${envNames.join(', ') || '(none)'}`],
    });
  }

  const misnamed = unknownSettingNames(ignored);
  for (const { name, suggestion } of misnamed) {
    report.add({
      section: 'settings', id: `env-name.${name}`, status: 'warn',
      message: `.env sets ${name}, which is not an automesh setting, so it is ignored: did you mean ${suggestion}?`,
      hint: `rename ${name} to ${suggestion} in ${envPath} (.env.example lists every setting)`,
    });
  }

  let settings: Settings | null = null;
  let settingsProblems: string[] = [];
  try {
    settings = cliSettings(io).settings;
  } catch (err) {
    settingsProblems = err instanceof SettingsError ? err.problems : [err instanceof Error ? err.message : String(err)];
  }
  const source = (name: string): string => settingSource(name, io.env, envVars);
  const values_ = settings ? settingValues(settings, source) : null;
  if (settings) {
    report.add({
      section: 'settings', id: 'settings', status: 'ok', message: 'every setting is valid',
      details: Object.entries(values_ ?? {}).map(([name, v]) => `${name}=${v.value === null ? '(not set)' : String(v.value)}  (${v.source})`),
    });
  } else {
    report.add({
      section: 'settings', id: 'settings', status: 'fail', message: `invalid settings (${settingsProblems.length})`,
      details: settingsProblems, hint: 'fix the values named above, in the environment or .env (.env.example documents every setting)',
    });
  }

  // Sandbox self-test: the configured sandbox settings, or the defaults when the settings are invalid.
  const sandboxSettings: SandboxSettings = sandboxSettingsOf(settings ?? loadSettings({ env: {}, envFile: false }));
  const doneSandbox = report.busy('sandbox self-test: starting a worker, running code, testing the limits…');
  let sandbox: SandboxSelfTest;
  try {
    sandbox = await sandboxSelfTest(sandboxSettings);
  } finally {
    doneSandbox();
  }
  for (const p of sandbox.probes) {
    report.add({
      section: 'sandbox', id: `sandbox.${p.name}`, status: p.ok ? 'ok' : 'fail', message: describeProbe(p), durationMs: p.durationMs,
      hint: SANDBOX_HINT,
      details: [
        ...(p.error ? [`message: ${p.error}`] : []),
        ...(p.name === 'start' ? [] : [Object.entries(p.details).map(([k, v]) => `${k} ${String(v)}`).join(', ')]),
      ],
    });
  }

  if (sandbox.confinement) {
    for (const [name, status] of Object.entries(sandbox.confinement)) {
      report.add({
        section: 'sandbox', id: `sandbox.confinement.${name}`, status: status.active ? 'ok' : 'warn',
        message: `worker confinement, ${name}: ${status.detail}`, hint: CONFINEMENT_HINT,
      });
    }
  }

  // Providers
  let statuses: ProviderStatus[] = [];
  let validation: LiveCheck[] | null = null;
  if (!settings) {
    report.add({ section: 'providers', id: 'providers', status: 'skip', message: 'not checked: fix the settings first' });
  } else {
    statuses = providerStatuses(settings, source);
    const usable = statuses.filter((p) => p.configured && p.inOrder && !p.problem);
    for (const p of statuses) report.add({ section: 'providers', ...describeProvider(p) });
    report.add({
      section: 'providers', id: 'provider-order', status: 'info',
      message: `chain order (LLM_PROVIDER_ORDER): ${settings.LLM_PROVIDER_ORDER.join(' → ')}; in use: ${usable.map((p) => p.name).join(' → ') || 'none'}; ` +
        `timeout ${settings.LLM_TIMEOUT} s, ${settings.LLM_MAX_RETRIES} retries per provider`,
    });
    if (usable.length === 0) {
      if (settings.AUTOMESH_REPLAY) {
        report.add({
          section: 'providers', id: 'providers', status: 'warn',
          message: `no LLM provider is configured; replies come from the recording AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}`,
          hint: 'tasks not in the recording fail: configure a provider for them',
        });
      } else {
        report.add({
          section: 'providers', id: 'providers', status: 'fail',
          message: 'no LLM provider is configured: set the variables of at least one, in the environment or in .env:',
          details: providerSetupLines(),
          hint: 'set e.g. CLAUDE_API_KEY, or LLM_ENDPOINT for a local vLLM/OpenAI-compatible server; then run automesh check --validate-llm',
        });
      }
    }
    if (settings.AUTOMESH_RECORD) {
      report.add({ section: 'providers', id: 'record', status: 'info', message: `recording every LLM reply to ${settings.AUTOMESH_RECORD} (AUTOMESH_RECORD)` });
    }
    if (settings.AUTOMESH_REPLAY && usable.length > 0) {
      report.add({
        section: 'providers', id: 'replay', status: 'info',
        message: `AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}: tasks answer from the recording, not from the providers`,
      });
    }

    // Live calls
    if (validate) {
      validation = [];
      if (usable.length === 0) {
        report.add({ section: 'llm', id: 'llm', status: 'skip', message: 'no configured provider to call' });
      }
      for (const p of usable) {
        const done = report.busy(`calling ${p.name} (${p.model})…`);
        let result: LiveCheck;
        try {
          result = await liveCheck(p.name, settings);
        } finally {
          done();
        }
        validation.push(result);
        report.add({ section: 'llm', ...describeLive(result) });
      }
    }
  }

  // Agents: each one's providers and models, when there is an agents file
  const agentsFile = agentsFileFor(values.agents, io.cwd);
  const agentRoutes = settings && agentsFile ? await checkAgentRoutes(agentsFile, io.cwd, settings) : null;
  for (const item of agentRoutes?.items ?? []) report.add({ section: 'agents', ...item });

  // Sandbox and storage settings
  let storage: StorageReport | null = null;
  let promptDirectory: string | null = null;
  if (settings) {
    const s = sandboxSettings;
    report.add({
      section: 'storage', id: 'sandbox-settings', status: 'info',
      message: `sandbox: EXECUTION_TIMEOUT ${s.EXECUTION_TIMEOUT} s, SANDBOX_MEMORY_MB ${s.SANDBOX_MEMORY_MB}, ` +
        `SANDBOX_WORKERS ${s.SANDBOX_WORKERS}, MAX_REPAIR_ATTEMPTS ${settings.MAX_REPAIR_ATTEMPTS}`,
      details: [
        `SANDBOX_MAX_OUTPUT_BYTES ${s.SANDBOX_MAX_OUTPUT_BYTES}, SANDBOX_MAX_LOG_BYTES ${s.SANDBOX_MAX_LOG_BYTES}, ` +
          `SANDBOX_MAX_TOOL_CALLS ${s.SANDBOX_MAX_TOOL_CALLS}, SANDBOX_MAX_TOOL_BYTES ${s.SANDBOX_MAX_TOOL_BYTES}`,
      ],
    });
    storage = checkStorage(settings, io);
    report.add({
      section: 'storage', id: 'storage', status: storage.problem ? 'fail' : 'ok',
      message: `LOG_DIRECTORY ${storage.logDirectory} → ${storage.path} ` +
        `(${storage.problem ?? (storage.exists ? 'writable' : 'created on first write')}); results in <role>/, code registry in registry/, ` +
        `REGISTRY_REUSE ${storage.registryReuse ? 'on' : 'off'}`,
      hint: 'set LOG_DIRECTORY to a folder automesh may write to',
    });
    const dir = settings.PROMPT_DIRECTORY ? resolve(io.cwd, settings.PROMPT_DIRECTORY) : DEFAULT_PROMPT_DIRECTORY;
    promptDirectory = dir;
    try {
      loadPromptTemplates(dir);
      report.add({
        section: 'storage', id: 'prompts', status: 'ok',
        message: `prompt templates: ${settings.PROMPT_DIRECTORY ? `PROMPT_DIRECTORY ${dir}` : `the shipped ones (${dir})`}`,
      });
    } catch (err) {
      report.add({
        section: 'storage', id: 'prompts', status: 'fail', message: `prompt templates: ${err instanceof Error ? err.message : String(err)}`,
        hint: 'fix the templates or unset PROMPT_DIRECTORY',
      });
    }
  }

  // Summary and next steps
  const failed = report.items.filter((i) => i.status === 'fail');
  const warned = report.items.filter((i) => i.status === 'warn');
  const nextSteps: string[] = [];
  for (const item of failed) {
    const who = (item.section === 'llm' || item.section === 'providers') && item.id.includes('.') ? `${item.id.split('.')[1]}: ` : '';
    const step = item.hint ? `${who}${item.hint}` : item.message;
    if (!nextSteps.includes(step)) nextSteps.push(step);
  }
  if (failed.length > 0) {
    nextSteps.push(`then run automesh check${validate ? ' --validate-llm' : ''} again`);
  } else if (!validate) {
    nextSteps.push('automesh check --validate-llm: one tiny live call to each configured provider');
    nextSteps.push('automesh smoketest: an agent computes 2 + 2 through the provider chain, the sandbox, the registry and the result log');
  } else {
    nextSteps.push('automesh smoketest: an agent computes 2 + 2 through the provider chain, the sandbox, the registry and the result log');
    nextSteps.push('automesh init my-project: a runnable project with agents.ts and main.ts');
  }
  const ok = failed.length === 0;
  const totalMs = performance.now() - started;

  if (json) {
    printJson(io, {
      ok,
      problems: failed.map((i) => i.message),
      warnings: warned.map((i) => i.message),
      node: { version: node.version, required: `>=${MIN_NODE_MAJOR}`, ok: node.ok },
      envFile: { path: envPath, found: envFound, names: envNames, ignored, misnamed, error: envFileError },
      settings: { ok: settings !== null, problems: settingsProblems, ...(verbose && values_ ? { values: values_ } : {}) },
      sandbox: { ok: sandbox.ok, probes: sandbox.probes, workersStarted: sandbox.workersStarted, settings: sandboxSettings },
      providerOrder: settings?.LLM_PROVIDER_ORDER ?? null,
      providers: statuses,
      validation,
      agents: agentRoutes ? { file: agentRoutes.file, agents: agentRoutes.agents } : null,
      storage: storage ? { ...storage, promptDirectory } : null,
      checks: report.items,
      nextSteps,
      durationMs: totalMs,
    });
    return ok ? 0 : 1;
  }

  println(io, '');
  const counts = `${report.items.filter((i) => i.status === 'ok').length} ok, ${warned.length} warning${warned.length === 1 ? '' : 's'}`;
  if (ok) {
    println(io, `${paint(io, 'bold', 'Summary:')} ${paint(io, 'green', 'everything works')} (${counts})${verbose ? ` in ${ms(totalMs)}` : ''}.`);
  } else {
    println(io, `${paint(io, 'bold', 'Summary:')} ${paint(io, 'red', `${failed.length} problem${failed.length === 1 ? '' : 's'}`)} (${counts}):`);
    for (const item of failed) println(io, `  ${badge(io, 'fail')} ${item.message.replace(/:$/, '')}`);
  }
  println(io, '');
  println(io, paint(io, 'bold', 'Next steps:'));
  nextSteps.forEach((step, i) => println(io, `  ${i + 1}. ${step}`));
  return ok ? 0 : 1;
}

export const checkCommand: Command = {
  name: 'check',
  help: HELP,
  options: OPTIONS,
  run,
};
