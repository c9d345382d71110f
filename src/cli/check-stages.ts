/**
 * The stages of `automesh check`, in the order it runs them: Node.js, .env, settings, the sandbox self-test,
 * the providers, the live calls (--validate-llm), the agents, the sandbox and storage settings; then the next
 * steps. Each adds its items to the report and returns what the JSON report and the later stages need.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_PROMPT_DIRECTORY, loadPromptTemplates } from '../codegen/prompts.js';
import { readEnvFile } from '../config/env-file.js';
import { type SandboxSettings, sandboxSettingsOf } from '../config/sandbox-settings.js';
import {
  knownSettingNames,
  loadSettings,
  maskSecret,
  SECRET_SETTINGS,
  type Settings,
  SettingsError,
  settingsSchema,
  type UnknownSettingName,
  unknownSettingNames,
} from '../config/settings.js';
import { redactUrlCredentials } from '../config/url-credentials.js';
import { providerSetupLines } from '../llm/providers/index.js';
import { agentsFileFor, checkAgentRoutes } from './agent-routes.js';
import type { CheckItem, Reporter } from './check-report.js';
import { type Io, ms } from './io.js';
import {
  displayUrl,
  type LiveCheck,
  liveCheck,
  type ProviderStatus,
  providerStatuses,
  settingSource,
} from './provider-check.js';
import {
  CONFINEMENT_HINT,
  SANDBOX_HINT,
  type SandboxProbe,
  type SandboxSelfTest,
  sandboxSelfTest,
} from './self-test.js';
import { cliSettings } from './setup.js';
import { safeText } from './terminal-text.js';

export const MIN_NODE_MAJOR = 20;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface NodeReport {
  version: string;
  required: string;
  ok: boolean;
}

export function nodeStage(report: Reporter, version = process.versions.node): NodeReport {
  const ok = Number(version.split('.')[0]) >= MIN_NODE_MAJOR;
  report.add({
    section: 'node',
    id: 'node',
    status: ok ? 'ok' : 'fail',
    message: `Node.js ${version} (automesh needs ${MIN_NODE_MAJOR} or newer)`,
    hint: `install Node.js ${MIN_NODE_MAJOR} or newer (https://nodejs.org)`,
  });
  return { version, required: `>=${MIN_NODE_MAJOR}`, ok };
}

export interface EnvFileReport {
  path: string;
  found: boolean;
  names: string[];
  /** Names in it that are no automesh setting. */
  ignored: string[];
  /** Ignored names that look like a misspelt setting. */
  misnamed: UnknownSettingName[];
  error: string | null;
  /** Its values (empty when there is none or it is unreadable). */
  vars: Record<string, string>;
}

const KNOWN_NAMES: ReadonlySet<string> = new Set(knownSettingNames());

/** The `.env` in the working directory: found, readable, and which of its names automesh reads. */
export function envFileStage(report: Reporter, io: Io): EnvFileReport {
  const path = join(io.cwd, '.env');
  const found = existsSync(path);
  let vars: Record<string, string> = {};
  let error: string | null = null;
  if (found) {
    try {
      vars = readEnvFile(path);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
  }
  const names = Object.keys(vars);
  const ignored = names.filter((n) => !KNOWN_NAMES.has(n));
  if (!found) {
    report.add({
      section: 'settings',
      id: 'env-file',
      status: 'info',
      message: `no .env in ${io.cwd}: settings come from the environment only (that is fine)`,
    });
  } else if (error) {
    report.add({
      section: 'settings',
      id: 'env-file',
      status: 'fail',
      message: `.env found at ${path} but unreadable: ${error}`,
      hint: "fix the file's permissions or its syntax (NAME=value lines)",
    });
  } else {
    const used = names.length - ignored.length;
    report.add({
      section: 'settings',
      id: 'env-file',
      status: 'ok',
      message:
        `.env found and loaded: ${path} (${plural(used, 'automesh setting')}`
        + `${ignored.length > 0 ? `; ${plural(ignored.length, 'other name')} ignored: ${ignored.join(', ')}` : ''}; `
        + 'the environment overrides it)',
      details: [`names: ${names.join(', ') || '(none)'}`],
    });
  }
  const misnamed = unknownSettingNames(ignored);
  for (const { name, suggestion } of misnamed) {
    report.add({
      section: 'settings',
      id: `env-name.${name}`,
      status: 'warn',
      message: `.env sets ${name}, which is not an automesh setting, so it is ignored: did you mean ${suggestion}?`,
      hint: `rename ${name} to ${suggestion} in ${path} (.env.example lists every setting)`,
    });
  }
  return { path, found, names, ignored, misnamed, error, vars };
}

export interface SettingsReport {
  /** Null when a value is invalid. */
  settings: Settings | null;
  problems: string[];
  /** Where a setting's value came from: the environment, `.env`, or the default. */
  source: (name: string) => string;
  /** Each setting's value for display (secrets masked) and its source. */
  values: Record<string, { value: unknown; source: string }> | null;
}

/** Each setting's value for display (secrets masked) and where it came from. */
function settingValues(
  settings: Settings,
  source: (name: string) => string,
): Record<string, { value: unknown; source: string }> {
  const out: Record<string, { value: unknown; source: string }> = {};
  for (const name of Object.keys(settingsSchema.shape) as Array<keyof Settings>) {
    const raw = settings[name];
    let value: unknown = raw;
    if (SECRET_SETTINGS.has(name)) value = raw === undefined ? undefined : maskSecret(String(raw));
    else if (typeof raw === 'string' && /ENDPOINT$/.test(name)) value = displayUrl(raw);
    else if (typeof raw === 'string' && name === 'NATS_URL') value = redactUrlCredentials(raw);
    out[name] = { value: value ?? null, source: source(name) };
  }
  return out;
}

/** Every setting valid (the environment over `.env`), each value listed with --verbose. */
export function settingsStage(report: Reporter, io: Io, envVars: Record<string, string>): SettingsReport {
  const source = (name: string): string => settingSource(name, io.env, envVars);
  let settings: Settings | null = null;
  let problems: string[] = [];
  try {
    settings = cliSettings(io).settings;
  } catch (err) {
    problems = err instanceof SettingsError ? err.problems : [err instanceof Error ? err.message : String(err)];
  }
  const values = settings ? settingValues(settings, source) : null;
  if (values) {
    report.add({
      section: 'settings',
      id: 'settings',
      status: 'ok',
      message: 'every setting is valid',
      details: Object.entries(values).map(
        ([name, v]) => `${name}=${v.value === null ? '(not set)' : String(v.value)}  (${v.source})`,
      ),
    });
  } else {
    report.add({
      section: 'settings',
      id: 'settings',
      status: 'fail',
      message: `invalid settings (${problems.length})`,
      details: problems,
      hint: 'fix the values named above, in the environment or .env (.env.example documents every setting)',
    });
  }
  return { settings, problems, source, values };
}

function describeProbe(p: SandboxProbe): string {
  return p.ok ? `${p.label} → ${p.expected}` : `${p.label}: expected ${p.expected}, got ${p.got}`;
}

/** The sandbox self-test with the configured sandbox settings, or the defaults when the settings are invalid. */
export async function sandboxStage(
  report: Reporter,
  settings: Settings | null,
): Promise<{ settings: SandboxSettings; result: SandboxSelfTest }> {
  const sandboxSettings = sandboxSettingsOf(settings ?? loadSettings({ env: {}, envFile: false }));
  const result = await report.while('sandbox self-test: starting a worker, running code, testing the limits…', () =>
    sandboxSelfTest(sandboxSettings),
  );
  for (const p of result.probes) {
    report.add({
      section: 'sandbox',
      id: `sandbox.${p.name}`,
      status: p.ok ? 'ok' : 'fail',
      message: describeProbe(p),
      durationMs: p.durationMs,
      hint: SANDBOX_HINT,
      details: [
        ...(p.error ? [`message: ${p.error}`] : []),
        ...(p.name === 'start'
          ? []
          : [
              Object.entries(p.details)
                .map(([k, v]) => `${k} ${String(v)}`)
                .join(', '),
            ]),
      ],
    });
  }
  for (const [name, status] of Object.entries(result.confinement ?? {})) {
    report.add({
      section: 'sandbox',
      id: `sandbox.confinement.${name}`,
      status: status.active ? 'ok' : 'warn',
      message: `worker confinement, ${name}: ${status.detail}`,
      hint: CONFINEMENT_HINT,
    });
  }
  return { settings: sandboxSettings, result };
}

function describeProvider(p: ProviderStatus): Omit<CheckItem, 'section'> {
  const name = p.name.padEnd(6);
  const id = `provider.${p.name}`;
  if (p.problem) {
    return {
      id,
      status: 'fail',
      message: `${name}  half configured: ${p.problem}`,
      hint: `set both of ${p.needs}, or neither`,
    };
  }
  if (!p.configured) {
    return {
      id,
      status: p.inOrder ? 'info' : 'skip',
      message: `${name}  not configured${p.inOrder ? ` (to use it, set ${p.needs})` : ', and not in LLM_PROVIDER_ORDER'}`,
    };
  }
  const key =
    !p.keyRequired && p.key === '(not set)'
      ? `no key (${p.keySetting} not set; fine when the server needs none)`
      : `key ${p.key}${p.keySource ? ` (from ${p.keySource})` : ''}`;
  const what = `model ${p.model}, ${key}, endpoint ${p.endpoint ?? '?'}`;
  if (!p.inOrder) {
    return {
      id,
      status: 'warn',
      message: `${name}  configured but not in LLM_PROVIDER_ORDER, so never called: ${what}`,
      hint: `add ${p.name} to LLM_PROVIDER_ORDER to use it`,
    };
  }
  return { id, status: 'ok', message: `${name}  configured: ${what}` };
}

/** Providers that the chain would call: configured, in LLM_PROVIDER_ORDER, not half configured. */
function usableOf(statuses: readonly ProviderStatus[]): ProviderStatus[] {
  return statuses.filter((p) => p.configured && p.inOrder && !p.problem);
}

/** Each provider, configured or not (keys masked); the chain order; record and replay. */
export function providersStage(
  report: Reporter,
  settings: Settings,
  source: (name: string) => string,
): ProviderStatus[] {
  const statuses = providerStatuses(settings, source);
  const usable = usableOf(statuses);
  for (const p of statuses) report.add({ section: 'providers', ...describeProvider(p) });
  report.add({
    section: 'providers',
    id: 'provider-order',
    status: 'info',
    message:
      `chain order (LLM_PROVIDER_ORDER): ${settings.LLM_PROVIDER_ORDER.join(' → ')}; in use: ${usable.map((p) => p.name).join(' → ') || 'none'}; `
      + `timeout ${settings.LLM_TIMEOUT} s, ${settings.LLM_MAX_RETRIES} retries per provider`,
  });
  if (usable.length === 0 && settings.AUTOMESH_REPLAY) {
    report.add({
      section: 'providers',
      id: 'providers',
      status: 'warn',
      message: `no LLM provider is configured; replies come from the recording AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}`,
      hint: 'tasks not in the recording fail: configure a provider for them',
    });
  } else if (usable.length === 0) {
    report.add({
      section: 'providers',
      id: 'providers',
      status: 'fail',
      message: 'no LLM provider is configured: set the variables of at least one, in the environment or in .env:',
      details: providerSetupLines(),
      hint: 'set e.g. CLAUDE_API_KEY, or LLM_ENDPOINT for a local vLLM/OpenAI-compatible server; then run automesh check --validate-llm',
    });
  }
  if (settings.AUTOMESH_RECORD) {
    report.add({
      section: 'providers',
      id: 'record',
      status: 'info',
      message: `recording every LLM reply to ${settings.AUTOMESH_RECORD} (AUTOMESH_RECORD)`,
    });
  }
  if (settings.AUTOMESH_REPLAY && usable.length > 0) {
    report.add({
      section: 'providers',
      id: 'replay',
      status: 'info',
      message: `AUTOMESH_REPLAY=${settings.AUTOMESH_REPLAY}: tasks answer from the recording, not from the providers`,
    });
  }
  return statuses;
}

function describeLive(c: LiveCheck): Omit<CheckItem, 'section'> {
  const name = c.provider.padEnd(6);
  if (c.ok) {
    const tokens = c.tokens ? `, ${c.tokens.input + c.tokens.output} tokens` : '';
    return {
      id: `llm.${c.provider}`,
      status: 'ok',
      durationMs: c.latencyMs,
      message: `${name}  ${c.model} answered in ${ms(c.latencyMs)}${tokens}: ${JSON.stringify(c.reply ?? '')}`,
      details: [`endpoint ${c.endpoint}`],
    };
  }
  return {
    id: `llm.${c.provider}`,
    status: 'fail',
    durationMs: c.latencyMs,
    message: `${name}  ${c.model} failed after ${ms(c.latencyMs)}: ${c.reason}${c.status ? ` (HTTP ${c.status})` : ''}: ${safeText(c.message ?? '')}`,
    hint: c.hint ?? undefined,
    details: [`endpoint ${c.endpoint}`, `failure kind ${c.kind ?? '?'}`],
  };
}

/** --validate-llm: one tiny live call to each provider the chain would call, in chain order. */
export async function liveStage(
  report: Reporter,
  settings: Settings,
  statuses: readonly ProviderStatus[],
): Promise<LiveCheck[]> {
  const usable = usableOf(statuses);
  if (usable.length === 0)
    report.add({ section: 'llm', id: 'llm', status: 'skip', message: 'no configured provider to call' });
  const validation: LiveCheck[] = [];
  for (const p of usable) {
    const result = await report.while(`calling ${p.name} (${p.model})…`, () => liveCheck(p.name, settings));
    validation.push(result);
    report.add({ section: 'llm', ...describeLive(result) });
  }
  return validation;
}

/** Each agent's providers and models, when there is an agents file (`--agents`, or ./agents.ts). */
export async function agentsStage(report: Reporter, given: string | undefined, io: Io, settings: Settings | null) {
  const file = agentsFileFor(given, io.cwd);
  const routes = settings && file ? await checkAgentRoutes(file, io.cwd, settings) : null;
  for (const item of routes?.items ?? []) report.add({ section: 'agents', ...item });
  return routes ? { file: routes.file, agents: routes.agents } : null;
}

export interface StorageReport {
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

/** The sandbox limits, LOG_DIRECTORY (writable or creatable) and the prompt templates. */
export function storageStage(
  report: Reporter,
  settings: Settings,
  s: SandboxSettings,
  io: Io,
): StorageReport & { promptDirectory: string } {
  report.add({
    section: 'storage',
    id: 'sandbox-settings',
    status: 'info',
    message:
      `sandbox: EXECUTION_TIMEOUT ${s.EXECUTION_TIMEOUT} s, SANDBOX_MEMORY_MB ${s.SANDBOX_MEMORY_MB}, `
      + `SANDBOX_WORKERS ${s.SANDBOX_WORKERS}, MAX_REPAIR_ATTEMPTS ${settings.MAX_REPAIR_ATTEMPTS}`,
    details: [
      `SANDBOX_MAX_OUTPUT_BYTES ${s.SANDBOX_MAX_OUTPUT_BYTES}, SANDBOX_MAX_LOG_BYTES ${s.SANDBOX_MAX_LOG_BYTES}, `
        + `SANDBOX_MAX_TOOL_CALLS ${s.SANDBOX_MAX_TOOL_CALLS}, SANDBOX_MAX_TOOL_BYTES ${s.SANDBOX_MAX_TOOL_BYTES}`,
    ],
  });
  const storage = checkStorage(settings, io);
  report.add({
    section: 'storage',
    id: 'storage',
    status: storage.problem ? 'fail' : 'ok',
    message:
      `LOG_DIRECTORY ${storage.logDirectory} → ${storage.path} `
      + `(${storage.problem ?? (storage.exists ? 'writable' : 'created on first write')}); results and code registry in automesh.db, workflow state in workflows/, `
      + `REGISTRY_REUSE ${storage.registryReuse ? 'on' : 'off'}`,
    hint: 'set LOG_DIRECTORY to a folder automesh may write to',
  });
  const promptDirectory = settings.PROMPT_DIRECTORY
    ? resolve(io.cwd, settings.PROMPT_DIRECTORY)
    : DEFAULT_PROMPT_DIRECTORY;
  try {
    loadPromptTemplates(promptDirectory);
    report.add({
      section: 'storage',
      id: 'prompts',
      status: 'ok',
      message: `prompt templates: ${settings.PROMPT_DIRECTORY ? `PROMPT_DIRECTORY ${promptDirectory}` : `the shipped ones (${promptDirectory})`}`,
    });
  } catch (err) {
    report.add({
      section: 'storage',
      id: 'prompts',
      status: 'fail',
      message: `prompt templates: ${err instanceof Error ? err.message : String(err)}`,
      hint: 'fix the templates or unset PROMPT_DIRECTORY',
    });
  }
  return { ...storage, promptDirectory };
}

/** What to do next: each problem's hint (once), then the next command to run. */
export function nextStepsOf(items: readonly CheckItem[], validate: boolean): string[] {
  const steps: string[] = [];
  for (const item of items.filter((i) => i.status === 'fail')) {
    const who =
      (item.section === 'llm' || item.section === 'providers') && item.id.includes('.')
        ? `${item.id.split('.')[1]}: `
        : '';
    const step = item.hint ? `${who}${item.hint}` : item.message;
    if (!steps.includes(step)) steps.push(step);
  }
  const smoketest =
    'automesh smoketest: an agent computes 2 + 2 through the provider chain, the sandbox, the registry and the result log';
  if (steps.length > 0) steps.push(`then run automesh check${validate ? ' --validate-llm' : ''} again`);
  else if (!validate)
    steps.push('automesh check --validate-llm: one tiny live call to each configured provider', smoketest);
  else steps.push(smoketest, 'automesh init my-project: a runnable project with agents.ts and main.ts');
  return steps;
}
