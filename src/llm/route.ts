/**
 * An agent's own providers and models (DESIGN.md section 2): `defineAgent({ llm: { order: ['vllm', 'claude'],
 * models: { claude: 'claude-haiku-4-5' } } })` or `static llm = {...}` on an AutoAgent class. The shape is
 * checked when the agent is defined; whether the named providers are configured is checked at `mesh.start()`,
 * so a route never falls back silently to providers the agent did not ask for.
 */
import { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { AutomeshError } from '../core/errors.js';
import {
  PROVIDER_ALIASES,
  PROVIDER_NAMES,
  type ProviderName,
  providerDefinition,
  requiredSettingsText,
} from './providers/index.js';

export interface LlmRoute {
  /** Providers to try, in this order; default: `LLM_PROVIDER_ORDER`. */
  order?: ProviderName[];
  /** The model per provider (Azure: the deployment); default: the provider's model setting. */
  models?: Partial<Record<ProviderName, string>>;
}

const unknownProvider = (name: unknown): string =>
  `llm names unknown provider ${JSON.stringify(name)}; the providers are ${PROVIDER_NAMES.join(', ')}`;

/** A provider's own name for an alias (`openai` → `vllm`), as LLM_PROVIDER_ORDER accepts them; else the name as given. */
const canonicalName = (name: unknown): unknown =>
  typeof name === 'string' ? (PROVIDER_ALIASES[name.trim().toLowerCase()] ?? name) : name;

const providerName = z.preprocess(
  canonicalName,
  z.string().refine((n) => (PROVIDER_NAMES as readonly string[]).includes(n), {
    error: (issue) => unknownProvider(issue.input),
  }),
);

/** `models` keyed by provider names, aliases replaced (so `{ openai: 'm' }` sets the vllm model). */
const canonicalKeys = (models: unknown): unknown =>
  models !== null && typeof models === 'object' && !Array.isArray(models)
    ? Object.fromEntries(Object.entries(models).map(([k, v]) => [canonicalName(k), v]))
    : models;

export const llmRouteSchema = z
  .strictObject(
    {
      order: z
        .array(providerName, {
          error: `llm.order must be a list of provider names (some of ${PROVIDER_NAMES.join(', ')})`,
        })
        .min(1, 'llm.order must name at least one provider (or leave it out to use LLM_PROVIDER_ORDER)')
        .refine((names) => new Set(names).size === names.length, 'llm.order names a provider twice')
        .optional(),
      models: z
        .preprocess(
          canonicalKeys,
          z
            .record(
              z.string(),
              z
                .string({ error: 'llm.models values must be model names (text)' })
                .trim()
                .min(1, 'llm.models must not hold an empty model name'),
              {
                error: 'llm.models must map provider names to model names, e.g. { claude: "claude-haiku-4-5" }',
              },
            )
            .superRefine((models, ctx) => {
              for (const name of Object.keys(models)) {
                if (!(PROVIDER_NAMES as readonly string[]).includes(name))
                  ctx.addIssue({ code: 'custom', message: unknownProvider(name) });
              }
            }),
        )
        .optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `llm has unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; it takes order and models`
          : 'llm must be an object { order?, models? }',
    },
  )
  .transform((route) => route as LlmRoute);

/** The settings with one provider's model replaced. */
export function withModel(settings: Settings, provider: ProviderName, model: string | undefined): Settings {
  return model === undefined ? settings : { ...settings, [providerDefinition(provider).modelSetting]: model };
}

/** An agent's `llm` route that cannot be followed (an unconfigured provider, a model it cannot change). Code `invalid-route`. */
export class RouteError extends AutomeshError<'invalid-route'> {
  constructor(message: string) {
    super('invalid-route', message);
    this.name = 'RouteError';
  }
}

/** The error for an agent whose route names a provider that has no configuration. */
export function notConfiguredError(owner: string, provider: ProviderName): RouteError {
  return new RouteError(
    `${owner} names provider "${provider}" in its llm.order, but ${provider} is not configured: set `
      + `${requiredSettingsText(provider)} (in the environment, .env or the Mesh config), or remove "${provider}" from the agent's llm.order.`,
  );
}
