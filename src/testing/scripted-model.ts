/**
 * A scripted model for tests (`automesh/testing`): a {@link Provider} for `new Mesh({ providers: [model] })` that
 * answers from rules instead of a network. Each call goes through the real provider chain (retries, failover,
 * cooldown, timeouts, pricing), so a fault it throws is handled exactly as a real provider's would be.
 *
 *     const model = scriptedModel([
 *       { task: 'factorial', attempt: 1, fault: 'rate_limit' },        // the first try is refused (429), then retried
 *       { task: 'factorial', code: 'let f = 1; for (let i = 2; i <= 10; i++) f *= i; result = f;' },
 *     ]);
 *     const mesh = new Mesh({ providers: [model] });
 *     ...
 *     model.calls;   // every call: task, attempt, prompt, the rule that answered
 *
 * A call is answered by the first rule whose conditions all hold and that has uses left; a call no rule answers
 * fails with a `bad_request` that lists the rules (the task then ends with category `llm`, saying so).
 */
import { ProviderError } from '../llm/errors.js';
import type { CallOptions, Completion, FailureKind, LlmRequest, Provider, ProviderName } from '../llm/types.js';
import { type TextMatch, textMatches } from './match.js';

/** A failure a rule makes the provider throw, as the chain classifies a real provider's. */
export type ScriptedFault =
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'connection'
  | 'auth'
  | 'model'
  | 'bad_request'
  /** No answer at all: the call waits until LLM_TIMEOUT (or the caller's signal) ends it. */
  | 'hang'
  /** An answer cut off at the token limit (finish reason `length`). */
  | 'truncated'
  /** An empty answer. */
  | 'empty';

/** One call as the rules see it (and as `model.calls` records it). */
export interface ScriptedCall {
  /** 1 for the model's first call, counting every call. */
  readonly call: number;
  /** The task: what follows `Task: ` in the last user message (the whole message when it has no such line). */
  readonly task: string;
  /** How many times this model has been asked about this task, this call included (a repair or a retry is 2). */
  readonly attempt: number;
  /** The last user message. */
  readonly prompt: string;
  readonly system: string;
  readonly request: LlmRequest;
  /** The index of the rule that answered, or null when none did. */
  rule: number | null;
}

export interface ScriptedRule {
  /** The task contains this text, or matches this RegExp. */
  task?: TextMatch;
  /** The last user message contains / matches it (a repair prompt carries the error and the failed code). */
  prompt?: TextMatch;
  /** The system prompt contains / matches it (e.g. an agent's own system prompt, or the tools it was told of). */
  system?: TextMatch;
  /** This task's attempt (see {@link ScriptedCall.attempt}). */
  attempt?: number;
  /** The model's call number, counting every call. */
  call?: number;
  /** Any other condition. */
  when?: (call: ScriptedCall) => boolean;
  /** The reply's whole text, or a function of the call that returns it. */
  reply?: string | ((call: ScriptedCall) => string | Promise<string>);
  /** A program, answered as a model writes one: a sentence, the code in a fenced `typescript` block, a remark. */
  code?: string;
  /** Throws this instead of answering. */
  fault?: ScriptedFault;
  /** Seconds the server asks to wait before the next try (with `rate_limit` / `overloaded`). */
  retryAfterSeconds?: number;
  /** Waits this long before answering (or failing); the caller's signal and LLM_TIMEOUT cut it short. */
  delayMs?: number;
  /** Answers at most this many calls (default: every call that matches). */
  times?: number;
}

export interface ScriptedModelOptions {
  /** The provider it stands for (default `vllm`: self-hosted, so its calls cost 0 and budgets allow it). */
  provider?: ProviderName;
  /** The model name replies and envelopes carry (default `scripted-model`). */
  model?: string;
}

export interface ScriptedModel extends Provider {
  /** Every call so far, oldest first. */
  readonly calls: readonly ScriptedCall[];
  /** Adds rules after those it has (they are tried last). */
  add(...rules: ScriptedRule[]): this;
  /** Forgets the calls and the rules' uses (the rules stay). */
  reset(): void;
}

const STATUS: Partial<Record<FailureKind, number>> = {
  rate_limit: 429,
  overloaded: 529,
  server: 500,
  auth: 401,
  model: 404,
  bad_request: 400,
};

let instances = 0;

/** A provider that answers from `rules` (see the module's description). */
export function scriptedModel(rules: ScriptedRule[] = [], options: ScriptedModelOptions = {}): ScriptedModel {
  return new Scripted(rules, options);
}

class Scripted implements ScriptedModel {
  readonly name: ProviderName;
  readonly model: string;
  /** Its own: the chain's cooldowns are per endpoint, and one test's faults must not cool another's model down. */
  readonly endpoint = `scripted://model-${++instances}`;
  private readonly rules: ScriptedRule[] = [];
  private uses: number[] = [];
  private readonly recorded: ScriptedCall[] = [];

  constructor(rules: ScriptedRule[], options: ScriptedModelOptions) {
    this.name = options.provider ?? 'vllm';
    this.model = options.model ?? 'scripted-model';
    this.add(...rules);
  }

  get calls(): readonly ScriptedCall[] {
    return this.recorded;
  }

  add(...rules: ScriptedRule[]): this {
    rules.forEach((rule, i) => checkRule(rule, this.rules.length + i));
    this.rules.push(...rules);
    this.uses.push(...rules.map(() => 0));
    return this;
  }

  reset(): void {
    this.recorded.length = 0;
    this.uses = this.rules.map(() => 0);
  }

  async complete(request: LlmRequest, options: CallOptions): Promise<Completion> {
    const call = this.record(request);
    const index = this.rules.findIndex((rule, i) => this.uses[i] !== rule.times && ruleMatches(rule, call));
    const rule = this.rules[index];
    if (!rule) throw this.unanswered(call);
    call.rule = index;
    this.uses[index] = (this.uses[index] ?? 0) + 1;
    if (rule.delayMs) await wait(rule.delayMs, options.signal);
    if (rule.fault === 'hang') await wait(Number.POSITIVE_INFINITY, options.signal);
    if (rule.fault && rule.fault !== 'truncated' && rule.fault !== 'empty') throw this.fault(rule, index);
    const text = rule.fault === 'empty' ? '' : await replyText(rule, call);
    return {
      text,
      model: this.model,
      inputTokens: Math.ceil((request.system.length + call.prompt.length) / 4),
      outputTokens: Math.max(1, Math.ceil(text.length / 4)),
      finishReason: rule.fault === 'truncated' ? 'length' : 'stop',
    };
  }

  private record(request: LlmRequest): ScriptedCall {
    const prompt = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const task = taskOf(prompt);
    const attempt = this.recorded.filter((c) => c.task === task).length + 1;
    const call: ScriptedCall = {
      call: this.recorded.length + 1,
      task,
      attempt,
      prompt,
      system: request.system,
      request,
      rule: null,
    };
    this.recorded.push(call);
    return call;
  }

  private fault(rule: ScriptedRule, index: number): ProviderError {
    const kind = rule.fault as FailureKind;
    const retryAfterMs = rule.retryAfterSeconds === undefined ? null : rule.retryAfterSeconds * 1000;
    const message = `scripted ${kind} (rule ${index})`;
    return new ProviderError(this.name, this.model, kind, message, STATUS[kind] ?? null, retryAfterMs);
  }

  private unanswered(call: ScriptedCall): ProviderError {
    const rules = this.rules.map(
      (rule, i) => `#${i} ${describeRule(rule)}${this.uses[i] === rule.times ? ' (used up)' : ''}`,
    );
    return new ProviderError(
      this.name,
      this.model,
      'bad_request',
      `The scripted model has no rule for call ${call.call} (task ${JSON.stringify(call.task.slice(0, 120))}, `
        + `attempt ${call.attempt}). Its rules: ${rules.join('; ') || 'none'}. Add a rule that matches this call.`,
      400,
    );
  }
}

function ruleMatches(rule: ScriptedRule, call: ScriptedCall): boolean {
  return (
    (rule.task === undefined || textMatches(call.task, rule.task))
    && (rule.prompt === undefined || textMatches(call.prompt, rule.prompt))
    && (rule.system === undefined || textMatches(call.system, rule.system))
    && (rule.attempt === undefined || rule.attempt === call.attempt)
    && (rule.call === undefined || rule.call === call.call)
    && (rule.when === undefined || rule.when(call))
  );
}

/** What follows `Task: ` up to the first blank line; the whole prompt when there is no such line. */
function taskOf(prompt: string): string {
  const at = /^Task: /m.exec(prompt);
  if (!at) return prompt.trim();
  const rest = prompt.slice(at.index + at[0].length);
  const end = rest.indexOf('\n\n');
  return (end === -1 ? rest : rest.slice(0, end)).trim();
}

async function replyText(rule: ScriptedRule, call: ScriptedCall): Promise<string> {
  if (rule.code !== undefined) {
    return `Here is a program for this task.\n\n\`\`\`typescript\n${rule.code}\n\`\`\`\n\nIt stores the answer in \`result\`.`;
  }
  return typeof rule.reply === 'function' ? rule.reply(call) : (rule.reply as string);
}

const FAULTS: readonly ScriptedFault[] = [
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'connection',
  'auth',
  'model',
  'bad_request',
  'hang',
  'truncated',
  'empty',
];

/** A rule must say what happens (one of reply, code, fault), and each field must be of its type. */
function checkRule(rule: ScriptedRule, index: number): void {
  const where = `scriptedModel rule #${index}`;
  if (typeof rule !== 'object' || rule === null) throw new TypeError(`${where} must be an object.`);
  const outcomes = (['reply', 'code', 'fault'] as const).filter((key) => rule[key] !== undefined);
  if (outcomes.length !== 1) {
    throw new TypeError(
      `${where} must say what the model does with exactly one of reply, code or fault; it has ${outcomes.join(', ') || 'none'}.`,
    );
  }
  if (rule.fault !== undefined && !FAULTS.includes(rule.fault)) {
    throw new TypeError(`${where}: unknown fault ${JSON.stringify(rule.fault)}; the faults are ${FAULTS.join(', ')}.`);
  }
  if (rule.reply !== undefined && typeof rule.reply !== 'string' && typeof rule.reply !== 'function') {
    throw new TypeError(`${where}: reply must be a string or a function (call) => string.`);
  }
  if (rule.code !== undefined && typeof rule.code !== 'string') throw new TypeError(`${where}: code must be a string.`);
  for (const key of ['attempt', 'call', 'times'] as const) {
    const value = rule[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new TypeError(`${where}: ${key} must be a whole number of 1 or more; got ${JSON.stringify(value)}.`);
    }
  }
}

function describeRule(rule: ScriptedRule): string {
  const when = (['task', 'prompt', 'system', 'attempt', 'call'] as const)
    .filter((key) => rule[key] !== undefined)
    .map((key) => `${key} ${rule[key] instanceof RegExp ? String(rule[key]) : JSON.stringify(rule[key])}`);
  if (rule.when) when.push('when()');
  const does = rule.fault ? `fault ${rule.fault}` : rule.code !== undefined ? 'code' : 'reply';
  return `${when.join(', ') || 'any call'} → ${does}`;
}

/** Resolves after `ms`; rejects when `signal` aborts first (the chain turns that into its timeout or a cancel). */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done(): void {
      signal.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}
