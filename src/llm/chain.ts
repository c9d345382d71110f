/**
 * The provider chain: one retry loop over the configured providers in order. Every SDK's own retries are
 * off, so a call makes at most (1 + LLM_MAX_RETRIES) tries per provider and never more.
 *
 * - Retried on the same provider, with exponential backoff and jitter or the server's Retry-After /
 *   RetryInfo (up to LLM_RETRY_MAX_DELAY; a longer requested wait fails over instead): 429, 529 and 503,
 *   other 5xx, timeouts, dropped connections.
 * - Failed over at once: 401/403, an unknown model (404), a 400, a refused connection, an unreadable body,
 *   and replies that are empty, truncated (max tokens) or filtered.
 * - A provider whose call failed for a reason that will hold for the next call too is skipped by every call
 *   in the process for LLM_COOLDOWN seconds.
 */
import { loadSettings, type Settings } from '../config/settings.js';
import { anyAbort } from '../core/abort.js';
import { type BackoffPolicy, retryDelay, sleep } from './backoff.js';
import type { CallEstimate, CodeModel, ModelRef } from './code-model.js';
import { clearCooldown, cooldownKey, cooldownRemaining, startCooldown } from './cooldown.js';
import { isProviderError, LlmAbortError, LlmChainError, NoProviderError, ProviderError } from './errors.js';
import { estimatePromptTokens, loadPriceTable, type PriceTable, priceOf } from './pricing.js';
import { configuredProviders, createProvider, createProviders, providerSetupText } from './providers/index.js';
import { redactSecrets, secretsOf } from './redact.js';
import { type LlmRoute, notConfiguredError, RouteError, withModel } from './route.js';
import { classifyOther } from './sdk-errors.js';
import type {
  Completion,
  FailureKind,
  LlmReply,
  LlmRequest,
  Provider,
  ProviderFailure,
  ProviderName,
  TokenUsage,
} from './types.js';
import { tokenCount } from './usage.js';

/** The longest cooldown a server's Retry-After can ask for, as a multiple of LLM_COOLDOWN. */
const MAX_COOLDOWN_FACTOR = 10;

/**
 * The reply's tokens as the provider counted them; when a count is missing or not a count, estimated from
 * the text (prompt: see `estimatePromptTokens`; reply: one token per 3 bytes) and marked as estimated.
 */
function usageOf(completion: Completion, request: LlmRequest): { tokens: TokenUsage; estimated: boolean } {
  const input = tokenCount(completion.inputTokens);
  const output = tokenCount(completion.outputTokens);
  if (input !== null && output !== null) return { tokens: { input, output, total: input + output }, estimated: false };
  const guessedInput = estimatePromptTokens(request.system, request.messages);
  const guessedOutput = Math.max(1, Math.ceil(Buffer.byteLength(completion.text, 'utf8') / 3));
  return {
    tokens: { input: guessedInput, output: guessedOutput, total: guessedInput + guessedOutput },
    estimated: true,
  };
}

/** Failures that say the provider will fail the next call too. */
const COOLDOWN_KINDS: ReadonlySet<FailureKind> = new Set([
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'connection',
  'unreachable',
  'auth',
  'model',
]);

export interface ChainOptions {
  /** Providers to use instead of those the settings configure (tests, custom providers). */
  providers?: Provider[];
  /** Backoff between retries (default: 500 ms doubling, capped at LLM_RETRY_MAX_DELAY). */
  backoff?: Partial<BackoffPolicy>;
  /**
   * Answers come from elsewhere (a replay middleware in front of the chain): no configured provider is then
   * not an error, and an agent's route leaves out the providers that are not configured.
   */
  answeredElsewhere?: boolean;
}

/** The temperature and most tokens of one call: the request's own, else the settings'. */
interface CallParameters {
  temperature: number;
  maxTokens: number;
}

export type { CallEstimate };

/** The temperature and most tokens a request asks for, the settings' where it sets none. */
export function callParameters(request: LlmRequest, settings: Settings): CallParameters {
  return {
    temperature: request.temperature ?? settings.LLM_TEMPERATURE,
    maxTokens: request.maxTokens ?? settings.LLM_MAX_TOKENS,
  };
}

/** Throws a TypeError for a request that is not one (before any provider, or a replay, answers it). */
export function checkRequest(request: LlmRequest): void {
  if (typeof request.system !== 'string') throw new TypeError('An LLM request needs a system prompt (a string).');
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw new TypeError('An LLM request needs at least one message.');
  }
  for (const m of request.messages) {
    if ((m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') {
      throw new TypeError('Each LLM message needs a role ("user" or "assistant") and string content.');
    }
  }
}

/** The provider chain: Claude → vLLM → Azure → Gemini (as configured), as a {@link CodeModel}. */
export class LlmChain implements CodeModel {
  readonly providers: readonly Provider[];
  private readonly settings: Settings;
  private readonly prices: PriceTable;
  private readonly backoff: BackoffPolicy;
  private readonly answeredElsewhere: boolean;
  /** The providers given in the options, when the chain was not built from the settings. */
  private readonly given: readonly Provider[] | null;
  /** Configured keys and URL credentials, taken out of every error text. */
  private readonly secrets: readonly string[];

  constructor(settings: Settings = loadSettings(), options: ChainOptions = {}) {
    this.settings = settings;
    this.given = options.providers ?? null;
    this.secrets = secretsOf(settings);
    this.prices = loadPriceTable(settings.LLM_PRICES_FILE);
    this.answeredElsewhere = options.answeredElsewhere === true;
    this.providers = options.providers ?? createProviders(settings);
    if (this.providers.length === 0 && !this.answeredElsewhere)
      throw new NoProviderError(settings.LLM_PROVIDER_ORDER, providerSetupText());
    this.backoff = {
      baseMs: options.backoff?.baseMs ?? 500,
      maxMs: options.backoff?.maxMs ?? settings.LLM_RETRY_MAX_DELAY * 1000,
    };
  }

  /** Names of the providers in chain order. */
  get order(): ProviderName[] {
    return this.providers.map((p) => p.name);
  }

  /** Loads every provider's SDK now rather than on its first call. */
  async prepare(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.prepare?.()));
  }

  get models(): readonly ModelRef[] {
    return this.providers.map((p) => ({ provider: p.name, model: p.model }));
  }

  /**
   * A chain over an agent's own provider order and models (`owner` names the agent in errors). It shares this
   * chain's price table and backoff. Throws a {@link RouteError} for a provider that is not configured; when
   * answers come from elsewhere (a replay), unconfigured ones are left out.
   */
  route(route: LlmRoute | undefined, owner: string): LlmChain {
    if (!route || (route.order === undefined && route.models === undefined)) return this;
    const order = route.order ?? this.order;
    const providers: Provider[] = [];
    for (const name of order) {
      const provider = this.routedProvider(name, route.models?.[name], owner);
      if (provider) providers.push(provider);
    }
    // Same parts, other providers: a copy of this chain's fields with its own provider list.
    return Object.assign(Object.create(LlmChain.prototype) as LlmChain, this, { providers });
  }

  private routedProvider(name: ProviderName, model: string | undefined, owner: string): Provider | null {
    if (this.given) {
      const provider = this.given.find((p) => p.name === name);
      if (!provider) throw notConfiguredError(owner, name);
      if (model !== undefined && model !== provider.model) {
        throw new RouteError(
          `${owner} sets llm.models.${name} to "${model}", but the mesh was given its own ${name} `
            + `provider (model "${provider.model}"), whose model an agent cannot change; drop llm.models.${name} or give a provider for that model.`,
        );
      }
      return provider;
    }
    if (!configuredProviders(this.settings)[name]) {
      if (this.answeredElsewhere) return null;
      throw notConfiguredError(owner, name);
    }
    const shared = this.providers.find((p) => p.name === name && (model === undefined || p.model === model));
    return shared ?? createProvider(name, withModel(this.settings, name, model));
  }

  /** Providers of this chain whose model has no price (a budget cannot bound what they cost). */
  unpricedModels(): ModelRef[] {
    return this.providers
      .filter((p) => priceOf(this.prices, p.name, p.model, 1, 1).unpriced)
      .map((p) => ({ provider: p.name, model: p.model }));
  }

  /**
   * The most the next call of `request` can cost: its estimated prompt tokens plus its most output tokens,
   * priced for the dearest provider of the chain (a call may fail over to any of them).
   */
  estimate(request: LlmRequest): CallEstimate {
    const { maxTokens } = this.parameters(request);
    const inputTokens = estimatePromptTokens(request.system, request.messages);
    let dearest: CallEstimate = { costUsd: 0, provider: null, model: null, inputTokens, outputTokens: maxTokens };
    for (const p of this.providers) {
      const { costUsd } = priceOf(this.prices, p.name, p.model, inputTokens, maxTokens);
      if (costUsd === null) return { ...dearest, costUsd: null, provider: p.name, model: p.model };
      if (dearest.provider === null || costUsd > (dearest.costUsd as number))
        dearest = { ...dearest, costUsd, provider: p.name, model: p.model };
    }
    return dearest;
  }

  private parameters(request: LlmRequest): CallParameters {
    return callParameters(request, this.settings);
  }

  /** One answer from the first provider that gives one; throws {@link LlmChainError} when none does. */
  async complete(request: LlmRequest): Promise<LlmReply> {
    checkRequest(request);
    const started = performance.now();
    if (request.signal?.aborted) throw new LlmAbortError();
    const parameters = this.parameters(request);

    const failures: ProviderFailure[] = [];
    const ready = this.providers.filter((p) => cooldownRemaining(this.keyOf(p)) === 0);
    // When every provider is cooling down, trying them beats failing without a try.
    const order = ready.length > 0 ? ready : [...this.providers];
    const skipped = this.providers.filter((p) => !order.includes(p));
    for (const [index, provider] of order.entries()) {
      const reply = await this.tryProvider(provider, request, parameters, failures);
      if (reply) return { ...reply, durationMs: performance.now() - started, failures };
      const next = order[index + 1];
      const failed = failures.at(-1);
      if (next && failed) {
        request.onEvent?.({
          kind: 'failover',
          provider: provider.name,
          model: failed.model,
          attempt: failures.filter((f) => f.provider === provider.name).length,
          delayMs: 0,
          next: next.name,
          error: `${failed.kind}: ${failed.message}`,
          errorKind: failed.kind,
        });
      }
    }
    const note =
      skipped.length > 0
        ? `Skipped while cooling down after recent failures: ${skipped.map((p) => p.name).join(', ')}.`
        : ready.length === 0
          ? 'Every provider was cooling down after recent failures; each was tried anyway.'
          : '';
    throw new LlmChainError(
      failures,
      [...order, ...skipped].map((p) => p.name),
      note,
    );
  }

  /** The error with every configured secret and URL credential taken out of its message. */
  private redacted(err: ProviderError): ProviderError {
    const message = redactSecrets(err.message, this.secrets);
    return message === err.message
      ? err
      : new ProviderError(err.provider, err.model, err.kind, message, err.status, err.retryAfterMs);
  }

  private keyOf(provider: Provider): string {
    return cooldownKey(provider.name, provider.endpoint, provider.model);
  }

  /** All tries of one provider; null when it failed (its failures are appended). */
  private async tryProvider(
    provider: Provider,
    request: LlmRequest,
    parameters: CallParameters,
    failures: ProviderFailure[],
  ): Promise<Omit<LlmReply, 'durationMs' | 'failures'> | null> {
    const maxRetries = this.settings.LLM_MAX_RETRIES;
    let last: ProviderError | null = null;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const outcome = await this.callOnce(provider, request, parameters);
      if (!isProviderError(outcome)) {
        clearCooldown(this.keyOf(provider));
        const usage = usageOf(outcome, request);
        const cost = usage.estimated
          ? { costUsd: null, unpriced: false }
          : priceOf(this.prices, provider.name, outcome.model, usage.tokens.input, usage.tokens.output);
        return {
          text: outcome.text,
          provider: provider.name,
          model: outcome.model,
          tokens: usage.tokens,
          ...cost,
          tokensEstimated: usage.estimated,
          finishReason: outcome.finishReason,
          replayed: false,
        };
      }
      last = outcome;
      failures.push(outcome.toFailure());
      if (!outcome.retryable || attempt === maxRetries) break;
      const delay = retryDelay(this.backoff, attempt, outcome.retryAfterMs);
      if (delay === null) break;
      request.onEvent?.({
        kind: 'retry',
        provider: provider.name,
        model: outcome.model,
        attempt: attempt + 1,
        delayMs: delay,
        next: provider.name,
        error: `${outcome.kind}: ${outcome.message}`,
        errorKind: outcome.kind,
      });
      try {
        await sleep(delay, request.signal);
      } catch {
        throw new LlmAbortError();
      }
    }
    if (last && COOLDOWN_KINDS.has(last.kind)) {
      // A server may ask for a longer rest than LLM_COOLDOWN, but not for one that outlives the process.
      const cooldownMs = this.settings.LLM_COOLDOWN * 1000;
      const asked = Math.min(last.retryAfterMs ?? 0, cooldownMs * MAX_COOLDOWN_FACTOR);
      startCooldown(this.keyOf(provider), Math.max(cooldownMs, asked));
    }
    return null;
  }

  /** One HTTP call with its own timeout; returns the completion or the classified failure. */
  private async callOnce(
    provider: Provider,
    request: LlmRequest,
    parameters: CallParameters,
  ): Promise<Completion | ProviderError> {
    // The provider's SDK loads on its first call; LLM_TIMEOUT times the call, not the load.
    await provider.prepare?.();
    const timeoutMs = Math.round(this.settings.LLM_TIMEOUT * 1000);
    const timer = new AbortController();
    const handle = setTimeout(() => timer.abort(new Error('LLM_TIMEOUT')), timeoutMs);
    const joined = request.signal ? anyAbort([request.signal, timer.signal]) : { signal: timer.signal, release: null };
    const { signal } = joined;
    let completion: Completion;
    try {
      completion = await provider.complete(request, {
        signal,
        timeoutMs: timeoutMs + 1000,
        temperature: parameters.temperature,
        maxTokens: parameters.maxTokens,
      });
    } catch (err) {
      if (request.signal?.aborted) throw new LlmAbortError();
      if (timer.signal.aborted) {
        return new ProviderError(
          provider.name,
          provider.model,
          'timeout',
          `no reply within LLM_TIMEOUT (${this.settings.LLM_TIMEOUT} s)`,
        );
      }
      return this.redacted(isProviderError(err) ? err : classifyOther(err, provider.name, provider.model));
    } finally {
      clearTimeout(handle);
      joined.release?.();
    }
    if (completion.finishReason === 'length') {
      return new ProviderError(
        provider.name,
        completion.model,
        'truncated',
        `the reply was cut off at the token limit (${parameters.maxTokens}); raise LLM_MAX_TOKENS`,
      );
    }
    if (completion.finishReason === 'filtered') {
      return new ProviderError(
        provider.name,
        completion.model,
        'filtered',
        "the reply was withheld by the provider's content filter",
      );
    }
    if (completion.text.trim() === '') {
      return new ProviderError(provider.name, completion.model, 'empty', 'the reply was empty');
    }
    return completion;
  }
}
