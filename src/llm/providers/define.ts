/**
 * What one provider file declares (the shape is vercel/ai's provider packages, in one file each): its
 * settings with their aliases and which are secret, what configures it, its default model, its endpoint
 * rules, its error classification, and how to build it. Everything the rest of automesh says about
 * providers (the settings schema, the aliases, the secret list, `check`'s lines, the "no provider" text)
 * is derived from these declarations in `./index.ts`.
 */
import type { z } from 'zod';
import type { ProviderError } from '../errors.js';
import type { Provider } from '../types.js';

/** One setting of a provider, declared where the provider is. */
export interface ProviderSetting<Schema extends z.ZodType = z.ZodType> {
  schema: Schema;
  /**
   * A secret value is masked by `automesh check`, hidden in settings errors and taken out of every error
   * text. Every setting says whether it is one, so a new key cannot be left off a list kept elsewhere.
   */
  secret: boolean;
  /** Other names read for it (the setting's own name wins), e.g. the vendor's own variable name. */
  aliases?: readonly string[];
  /** A value to show in messages that ask for it. */
  example?: string;
}

export type ProviderSettings = Record<string, ProviderSetting>;

/** The parsed values of a provider's settings. */
export type SettingValues<S extends ProviderSettings> = { [K in keyof S]: z.output<S[K]['schema']> };

export interface ProviderSpec<Name extends string, S extends ProviderSettings> {
  name: Name;
  /** For people: "Claude (Anthropic)". */
  label: string;
  /** Other names for it in LLM_PROVIDER_ORDER and an agent's llm.order and llm.models (`anthropic`). */
  aliases: readonly string[];
  settings: S;
  /**
   * The settings that configure it: all set, it is configured; none set, it is not; some set, it is half
   * configured, which is an error naming the missing ones.
   */
  required: ReadonlyArray<keyof S & string>;
  keySetting: keyof S & string;
  /** The setting naming the model (Azure: the deployment); an agent's llm.models overrides it. */
  modelSetting: keyof S & string;
  endpointSetting: keyof S & string;
  defaultModel: string;
  /** Where it sends requests when its endpoint setting is unset; null when that setting is required. */
  publicEndpoint: string | null;
  /** Self-hosted models cost nothing unless the price table lists them. */
  selfHosted: boolean;
  /** Why the path of a configured endpoint cannot work with its SDK (the SDK adds its own path); null if fine. */
  endpointPathProblem(path: string): string | null;
  /** Error texts of a 400 that mean the key was refused (some APIs answer a bad key with 400, not 401). */
  refusedKey?: RegExp;
  /** Turns what its SDK threw into a {@link ProviderError}. */
  classifyError(err: unknown, model: string): ProviderError;
  /** Builds it; its SDK module is loaded on the first call, not here. */
  create(settings: SettingValues<S>): Provider;
}

export interface ProviderDefinition<Name extends string = string, S extends ProviderSettings = ProviderSettings>
  extends ProviderSpec<Name, S> {
  /** Whether its required settings are set; throws for a half-configured provider. */
  isConfigured(settings: SettingValues<S>): boolean;
}

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/** A setting's name with its first alias, as users are told to set it: "AZURE_API_KEY (or AZURE_OPENAI_KEY)". */
export function settingLabel(name: string, setting: ProviderSetting | undefined): string {
  const alias = setting?.aliases?.[0];
  return alias ? `${name} (or ${alias})` : name;
}

/** The provider with `isConfigured` derived from its required settings. */
export function defineProvider<const Name extends string, const S extends ProviderSettings>(
  spec: ProviderSpec<Name, S>,
): ProviderDefinition<Name, S> {
  const isConfigured = (settings: SettingValues<S>): boolean => {
    const missing = spec.required.filter((name) => !isSet(settings[name]));
    if (missing.length === spec.required.length) return false;
    if (missing.length === 0) return true;
    const set = spec.required.filter((name) => !missing.includes(name));
    const asked = missing.map((name) => {
      const example = spec.settings[name]?.example;
      return `${settingLabel(name, spec.settings[name])}${example ? ` (e.g. ${example})` : ''}`;
    });
    throw new Error(
      `${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set but ${missing.join(' and ')} `
        + `${missing.length === 1 ? 'is' : 'are'} not: set ${asked.join(' and ')}, or unset ${set.join(' and ')}.`,
    );
  };
  return { ...spec, isConfigured };
}

/**
 * Loads an SDK module on its first use, once: `automesh --help`, `--version` and every code path that never
 * calls this provider do not pay for it. A failed load says which package is missing.
 */
export function lazySdk<Module>(pkg: string, load: () => Promise<Module>): () => Promise<Module> {
  let loaded: Promise<Module> | null = null;
  return () => {
    loaded ??= load().catch((err: unknown) => {
      throw new Error(
        `could not load the ${pkg} package (${err instanceof Error ? err.message : String(err)}); `
          + "reinstall automesh's dependencies (npm install)",
      );
    });
    return loaded;
  };
}
