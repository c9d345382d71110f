/**
 * The providers, and everything derived from their declarations: the names and their aliases, the settings
 * schema's provider fields with their aliases, the secret settings, what to set to configure each, and
 * building the configured ones in chain order.
 *
 * Adding a provider: its file in this folder (see `define.ts`), one entry in {@link PROVIDERS}, a price line in
 * `src/llm/prices.json` (unless it is self-hosted), and a protocol for the test server in `test/llm-server/`.
 */
import type { Settings } from '../../config/settings.js';
import type { Provider } from '../types.js';
import { azure } from './azure.js';
import { claude } from './claude.js';
import { type ProviderDefinition, type ProviderSettings, settingLabel } from './define.js';
import { gemini } from './gemini.js';
import { vllm } from './vllm.js';

/** Every provider, in the default chain order (LLM_PROVIDER_ORDER's default). */
export const PROVIDERS = [claude, vllm, azure, gemini] as const;

export type ProviderName = (typeof PROVIDERS)[number]['name'];

export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS.map((p) => p.name);

/** The declarations, as the code that treats every provider alike sees them. */
const DEFINITIONS: readonly ProviderDefinition[] = PROVIDERS;

export function providerDefinition(name: ProviderName): ProviderDefinition {
  const found = DEFINITIONS.find((p) => p.name === name);
  if (!found) throw new Error(`internal: no provider named ${name}`);
  return found;
}

/**
 * Other names users give the providers in LLM_PROVIDER_ORDER and an agent's llm: the SDK or vendor name.
 * `openai` is the OpenAI-compatible provider (LLM_ENDPOINT, the `openai` SDK), as in the README's provider table.
 */
export const PROVIDER_ALIASES: Readonly<Record<string, ProviderName>> = Object.fromEntries(
  PROVIDERS.flatMap((p) => p.aliases.map((alias) => [alias, p.name])),
);

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type SchemaShape<S extends ProviderSettings> = { [K in keyof S]: S[K]['schema'] };

/** Every provider's settings as zod fields, typed setting by setting. */
export type ProviderSettingsShape = UnionToIntersection<SchemaShape<(typeof PROVIDERS)[number]['settings']>>;

export const PROVIDER_SETTINGS_SHAPE = Object.fromEntries(
  DEFINITIONS.flatMap((p) => Object.entries(p.settings).map(([name, setting]) => [name, setting.schema])),
) as ProviderSettingsShape;

/** Second names of the providers' settings (the vendors' own variable names). */
export const PROVIDER_SETTING_ALIASES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  DEFINITIONS.flatMap((p) =>
    Object.entries(p.settings)
      .filter(([, s]) => s.aliases?.length)
      .map(([name, s]) => [name, s.aliases ?? []]),
  ),
);

/** The secret settings of every provider, with their aliases. */
export const PROVIDER_SECRET_SETTINGS: readonly string[] = DEFINITIONS.flatMap((p) =>
  Object.entries(p.settings)
    .filter(([, s]) => s.secret)
    .flatMap(([name, s]) => [name, ...(s.aliases ?? [])]),
);

/** The settings holding an endpoint URL (which may carry credentials). */
export const ENDPOINT_SETTINGS: readonly string[] = DEFINITIONS.map((p) => p.endpointSetting);

/** What configures a provider, as users are told: "AZURE_API_KEY (or AZURE_OPENAI_KEY) and AZURE_ENDPOINT (or …)". */
export function requiredSettingsText(name: ProviderName): string {
  const p = providerDefinition(name);
  return p.required.map((setting) => settingLabel(setting, p.settings[setting])).join(' and ');
}

/** Its settings that are not required. */
export function optionalSettings(name: ProviderName): string[] {
  const p = providerDefinition(name);
  return Object.keys(p.settings).filter((setting) => !p.required.includes(setting));
}

/** One line per provider: what to set to configure it. */
export function providerSetupLines(): string[] {
  const width = Math.max(...PROVIDER_NAMES.map((n) => n.length));
  return PROVIDER_NAMES.map(
    (name) =>
      `${name.padEnd(width)}  ${requiredSettingsText(name)}; optional ${optionalSettings(name).join(', ')}  (${providerDefinition(name).label})`,
  );
}

/** What to set to configure any provider, in one sentence for error messages. */
export function providerSetupText(): string {
  return PROVIDER_NAMES.map(
    (name) =>
      `${providerDefinition(name).label}: ${requiredSettingsText(name)}, optional ${optionalSettings(name).join(', ')}`,
  ).join('; ');
}

/** Whether each provider has what it needs; throws for a half-configured one (a key without its endpoint). */
export function configuredProviders(settings: Settings): Record<ProviderName, boolean> {
  return Object.fromEntries(
    PROVIDER_NAMES.map((name) => [name, providerDefinition(name).isConfigured(settings)]),
  ) as Record<ProviderName, boolean>;
}

/** The model a provider is set to (Azure: the deployment); every model setting has a default. */
export function configuredModel(settings: Settings, name: ProviderName): string {
  return String((settings as Record<string, unknown>)[providerDefinition(name).modelSetting]);
}

/** A setting's value by name, for code that treats every provider alike. */
export function settingValue(settings: Settings, name: string): string | undefined {
  const value = (settings as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The provider, built from the settings; its SDK is loaded on its first call. */
export function createProvider(name: ProviderName, settings: Settings): Provider {
  return providerDefinition(name).create(settings);
}

/** The configured providers in `LLM_PROVIDER_ORDER`; unconfigured ones are left out. */
export function createProviders(settings: Settings): Provider[] {
  const configured = configuredProviders(settings);
  return settings.LLM_PROVIDER_ORDER.filter((name) => configured[name]).map((name) => createProvider(name, settings));
}
