/**
 * Every automesh setting: name, default, validation. Precedence (DESIGN.md section 5):
 * built-in default < `.env` file < process environment < explicit config (`new Mesh({ config })`).
 * A bad value fails with a message naming the setting; secret values are never echoed. Each provider's settings
 * (and whether they are secret) are declared in its own file under `src/llm/providers/`.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { AutomeshError } from '../core/errors.js';
import {
  PROVIDER_ALIASES,
  PROVIDER_NAMES,
  PROVIDER_SECRET_SETTINGS,
  PROVIDER_SETTING_ALIASES,
  PROVIDER_SETTINGS_SHAPE,
  type ProviderName,
} from '../llm/providers/index.js';
import { readEnvFile } from './env-file.js';
import { boolean, integer, number, text } from './fields.js';
import { NATS_SECRET_SETTINGS, NATS_SETTINGS_SHAPE } from './nats-settings.js';
import { SERVE_SECRET_SETTINGS, SERVE_SETTINGS_SHAPE } from './serve-settings.js';
import { closestName, editDistance } from './suggest.js';
import { redactUrlCredentials } from './url-credentials.js';

export { PROVIDER_ALIASES, PROVIDER_NAMES, type ProviderName };

const providerOrder = z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
  const names = (Array.isArray(value) ? value : value.split(','))
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean)
    .map((n) => PROVIDER_ALIASES[n] ?? n);
  const unknown = names.filter((n) => !(PROVIDER_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        `LLM_PROVIDER_ORDER names unknown provider(s) ${unknown.join(', ')}; use some of ${PROVIDER_NAMES.join(', ')} `
        + `(or ${Object.entries(PROVIDER_ALIASES)
          .map(([alias, name]) => `${alias} for ${name}`)
          .join(', ')})`,
    });
    return z.NEVER;
  }
  if (names.length === 0) {
    ctx.addIssue({ code: 'custom', message: `LLM_PROVIDER_ORDER is empty; use some of ${PROVIDER_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(names)] as ProviderName[];
});

export const settingsSchema = z.object({
  /** Each provider's own settings, declared in its file under src/llm/providers/. */
  ...PROVIDER_SETTINGS_SHAPE,

  LLM_PROVIDER_ORDER: providerOrder.default([...PROVIDER_NAMES]),
  /** Seconds per LLM call. */
  LLM_TIMEOUT: number('LLM_TIMEOUT', 0.001, 3600).default(120),
  /** Retries of the same provider (after the first try) before failing over. */
  LLM_MAX_RETRIES: integer('LLM_MAX_RETRIES', 0, 20).default(2),
  LLM_TEMPERATURE: number('LLM_TEMPERATURE', 0, 2).default(0.2),
  /** Most tokens a reply may have. */
  LLM_MAX_TOKENS: integer('LLM_MAX_TOKENS', 1, 1_000_000).default(4096),
  /** Longest wait between retries, in seconds; a Retry-After beyond it fails over instead of waiting. */
  LLM_RETRY_MAX_DELAY: number('LLM_RETRY_MAX_DELAY', 0, 600).default(20),
  /** Seconds a provider that failed a call (after its retries) is skipped by every call in the process. */
  LLM_COOLDOWN: number('LLM_COOLDOWN', 0, 86_400).default(30),

  EXECUTION_TIMEOUT: number('EXECUTION_TIMEOUT', 0.001, 86_400).default(300),
  SANDBOX_MEMORY_MB: integer('SANDBOX_MEMORY_MB', 8, 16_384).default(128),
  SANDBOX_WORKERS: integer('SANDBOX_WORKERS', 1, 256).default(Math.max(2, availableParallelism())),
  SANDBOX_MAX_OUTPUT_BYTES: integer('SANDBOX_MAX_OUTPUT_BYTES', 16, 1 << 30).default(1 << 20),
  SANDBOX_MAX_LOG_BYTES: integer('SANDBOX_MAX_LOG_BYTES', 0, 1 << 30).default(256 * 1024),
  SANDBOX_MAX_TOOL_CALLS: integer('SANDBOX_MAX_TOOL_CALLS', 0, 1_000_000).default(200),
  SANDBOX_MAX_TOOL_BYTES: integer('SANDBOX_MAX_TOOL_BYTES', 0, 1 << 30).default(16 << 20),
  MAX_REPAIR_ATTEMPTS: integer('MAX_REPAIR_ATTEMPTS', 0, 20).default(3),

  /** Most workflow steps running at once. */
  WORKFLOW_CONCURRENCY: integer('WORKFLOW_CONCURRENCY', 1, 10_000).default(16),
  /**
   * Seconds a workflow run's lease lasts (renewed every third of it while the run is alive): how long a crashed run
   * keeps another from taking its workflow id over.
   */
  WORKFLOW_LEASE_TTL: number('WORKFLOW_LEASE_TTL', 0.05, 86_400).default(30),
  /**
   * Seconds a workflow step waits for an agent of another process to answer (the whole task: model calls, repairs,
   * execution) before it fails with category `mesh`.
   */
  MESH_STEP_TIMEOUT: number('MESH_STEP_TIMEOUT', 0.05, 86_400).default(600),
  /**
   * Distributed mode: seconds a node running a step may go without a heartbeat (it sends one every third of this
   * while the step runs) before the step is delivered again to another node: how long a killed node delays a step.
   */
  STEP_ACK_WAIT: number('STEP_ACK_WAIT', 0.1, 3600).default(10),
  /** Distributed mode: deliveries of one step (its nodes died each time) before it fails with category `crashed`. */
  STEP_MAX_DELIVER: integer('STEP_MAX_DELIVER', 1, 100).default(3),
  /** Distributed mode: most workflow steps one node runs at once, per agent it serves. */
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 1, 10_000).default(16),
  /** What `mesh.stop()` does with work in flight: wait for it, or cancel it. */
  MESH_STOP_MODE: z.enum(['wait', 'cancel'], { error: 'MESH_STOP_MODE must be wait or cancel' }).default('wait'),

  LOG_DIRECTORY: text('LOG_DIRECTORY').default('./logs'),
  /** A folder with the prompt templates (system.md, codegen.md, repair.md); default: the ones automesh ships. */
  PROMPT_DIRECTORY: text('PROMPT_DIRECTORY').optional(),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error', 'silent'], {
      error: 'LOG_LEVEL must be one of debug, info, warn, error, silent',
    })
    .default('info'),
  REGISTRY_REUSE: boolean('REGISTRY_REUSE').default(true),

  /**
   * Put prompt, reply, task and code text on OpenTelemetry spans (secrets taken out). Off by default: spans then
   * carry counts, names and categories only.
   */
  OTEL_RECORD_CONTENT: boolean('OTEL_RECORD_CONTENT').default(false),
  /** Serve this mesh's Prometheus metrics on http://METRICS_HOST:METRICS_PORT/metrics; unset: no endpoint (0: any free port). */
  METRICS_PORT: integer('METRICS_PORT', 0, 65_535).optional(),
  /** The address the metrics endpoint listens on; 0.0.0.0 lets a Prometheus on another machine scrape it. */
  METRICS_HOST: text('METRICS_HOST').default('127.0.0.1'),

  /** Most USD one task may spend on model calls (estimated before each call from the price table); unset: no limit. */
  MAX_TASK_COST_USD: number('MAX_TASK_COST_USD', 0, 1_000_000).optional(),

  /** A JSON file of extra prices, same shape as `src/llm/prices.json`, merged over the built-in table. */
  LLM_PRICES_FILE: text('LLM_PRICES_FILE').optional(),

  AUTOMESH_RECORD: text('AUTOMESH_RECORD').optional(),
  AUTOMESH_REPLAY: text('AUTOMESH_REPLAY').optional(),

  /** The mesh across processes: NATS server, node name, credentials (src/config/nats-settings.ts). */
  ...NATS_SETTINGS_SHAPE,

  /** The HTTP service: its access token (src/config/serve-settings.ts). */
  ...SERVE_SETTINGS_SHAPE,
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingName = keyof Settings;
/** Explicit settings, e.g. `new Mesh({ config: { LLM_TIMEOUT: 30 } })`. */
export type SettingsInput = Partial<Record<SettingName, string | number | boolean | readonly string[]>>;

/** Second names accepted for a setting (JarvisCore's and the providers' own); the first name wins. */
export const SETTING_ALIASES: Partial<Record<SettingName, readonly string[]>> = PROVIDER_SETTING_ALIASES;

/** Settings whose values are secret (and their aliases): never echoed in an error, a log or a stored file. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  ...PROVIDER_SECRET_SETTINGS,
  ...NATS_SECRET_SETTINGS,
  ...SERVE_SECRET_SETTINGS,
]);

const SETTING_NAMES = Object.keys(settingsSchema.shape) as SettingName[];

/** Picks this layer's value of each setting (the setting's own name first, then its aliases). */
function pickLayer(layer: Record<string, unknown>): Record<string, { value: unknown; from: string }> {
  const picked: Record<string, { value: unknown; from: string }> = {};
  for (const name of SETTING_NAMES) {
    for (const key of [name, ...(SETTING_ALIASES[name] ?? [])]) {
      const value = layer[key];
      if (value !== undefined && value !== null && value !== '') {
        picked[name] = { value, from: key };
        break;
      }
    }
  }
  return picked;
}

export interface LoadSettingsOptions {
  /** Explicit values, highest precedence. */
  config?: SettingsInput;
  /** The environment; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Path of the `.env` file (default `.env` in the working directory); `false` skips it. */
  envFile?: string | false;
}

/**
 * Masks a secret for display: the first 4 characters of a long one (enough to tell keys apart), nothing of a
 * short one, and never its length.
 */
export function maskSecret(value: string | undefined): string {
  if (!value) return '(not set)';
  return value.length < 16 ? '********' : `${value.slice(0, 4)}…`;
}

/** Every name a setting may be given: the settings' own and their aliases. */
export function knownSettingNames(): string[] {
  return [...SETTING_NAMES, ...Object.values(SETTING_ALIASES).flatMap((aliases) => [...(aliases ?? [])])];
}

/** Other tools' names for what a setting holds (not aliases: automesh does not read them). */
const FOREIGN_NAMES: Readonly<Record<string, SettingName>> = {
  OPENAI_API_KEY: 'LLM_API_KEY',
  OPENAI_BASE_URL: 'LLM_ENDPOINT',
  GOOGLE_API_KEY: 'GEMINI_API_KEY',
};

export interface UnknownSettingName {
  name: string;
  /** The setting it probably means. */
  suggestion: string;
}

/**
 * Names (of a `.env` file) that are no setting but look like one: a typo of a setting's name, or a name in a
 * setting's family (`CLAUDE_KEY` for `CLAUDE_API_KEY`). Other names (`MY_APP_PORT`) are the user's own.
 */
export function unknownSettingNames(names: Iterable<string>): UnknownSettingName[] {
  const known = knownSettingNames();
  const families = new Set(known.map((name) => name.split('_')[0] as string));
  const found: UnknownSettingName[] = [];
  for (const name of names) {
    if (known.includes(name)) continue;
    const upper = name.toUpperCase();
    let suggestion: string | null = FOREIGN_NAMES[upper] ?? closestName(upper, known);
    const family = upper.split('_')[0] as string;
    if (!suggestion && upper.includes('_') && families.has(family)) {
      // Same family, and the best match by the words they share, then by edits.
      const words = upper.split('_');
      const alike = (w: string): boolean =>
        words.some((x) => x === w || (Math.min(x.length, w.length) >= 4 && (x.startsWith(w) || w.startsWith(x))));
      const ranked = known
        .filter((k) => k.startsWith(`${family}_`))
        .map((k) => ({ k, shared: k.split('_').filter(alike).length, distance: editDistance(upper, k) }))
        .sort((a, b) => b.shared - a.shared || a.distance - b.distance);
      const best = ranked[0];
      if (best && best.shared >= 2) suggestion = best.k;
    }
    if (suggestion) found.push({ name, suggestion });
  }
  return found;
}

/** Loads and validates every setting. Throws one error listing every bad value, each by name. */
export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const layers = [
    options.envFile === false ? {} : readEnvFile(options.envFile),
    options.env ?? process.env,
    (options.config ?? {}) as Record<string, unknown>,
  ];
  const merged: Record<string, { value: unknown; from: string }> = {};
  for (const layer of layers) Object.assign(merged, pickLayer(layer));
  const unknownConfig = Object.keys(options.config ?? {}).filter(
    (key) =>
      !SETTING_NAMES.includes(key as SettingName) && !Object.values(SETTING_ALIASES).some((a) => a?.includes(key)),
  );
  const input = Object.fromEntries(Object.entries(merged).map(([name, { value }]) => [name, value]));
  const parsed = settingsSchema.safeParse(input);
  const problems: string[] = unknownConfig.map((key) => {
    const suggestion = FOREIGN_NAMES[key] ?? closestName(key, knownSettingNames());
    return `unknown setting ${key} in config (${suggestion ? `did you mean ${suggestion}? ` : ''}see .env.example for the names)`;
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      const entry = merged[name];
      const shown = !entry
        ? ''
        : SECRET_SETTINGS.has(name) || SECRET_SETTINGS.has(entry.from)
          ? `${entry.from}=(hidden)`
          : `${entry.from}=${redactUrlCredentials(JSON.stringify(entry.value))}`;
      problems.push(`${shown ? `${shown}: ` : ''}${issue.message}`);
    }
  }
  if (problems.length > 0) {
    throw new SettingsError(`Invalid settings: ${problems.join('; ')}.`, problems);
  }
  return parsed.data as Settings;
}

/** Bad settings; `problems` has one line per bad value. Code `invalid-settings`. */
export class SettingsError extends AutomeshError<'invalid-settings'> {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super('invalid-settings', message);
    this.name = 'SettingsError';
  }
}
