/**
 * Record and replay of LLM calls, for deterministic agent tests and offline runs.
 *
 * `AUTOMESH_RECORD=file` appends one JSON line per successful call: the request (system prompt, messages,
 * temperature, max tokens: never a key or a header) and the normalized reply. `AUTOMESH_REPLAY=file` answers
 * from such a file with no network, matching by a canonical hash of the request; identical requests get the
 * recorded replies in order (the last one repeats). A miss is an error that shows the closest recorded request
 * and where it differs.
 *
 * Both are model middleware ({@link recordReplayMiddleware}), in front of whatever model they wrap: a replay
 * answers without calling it; a recording passes each call on and writes down what came back.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Settings } from '../config/settings.js';
import { AutomeshError } from '../core/errors.js';
import { callParameters, checkRequest } from './chain.js';
import { LlmAbortError } from './errors.js';
import type { ModelMiddleware } from './model-middleware.js';
import type { LlmReply, LlmRequest } from './types.js';

/** The parts of a request that decide its answer. */
export interface CanonicalRequest {
  system: string;
  messages: Array<{ role: string; content: string }>;
  temperature: number;
  maxTokens: number;
}

/** The parts of a reply that a recording keeps (no timing, no failures: those belong to the live call). */
export type RecordedReply = Pick<
  LlmReply,
  'text' | 'provider' | 'model' | 'tokens' | 'costUsd' | 'unpriced' | 'finishReason'
> & { tokensEstimated?: boolean };

interface RecordLine {
  version: 1;
  key: string;
  recordedAt: string;
  request: CanonicalRequest;
  reply: RecordedReply;
}

function normalizeText(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

export function canonicalRequest(request: CanonicalRequest): CanonicalRequest {
  return {
    system: normalizeText(request.system),
    messages: request.messages.map((m) => ({ role: m.role, content: normalizeText(m.content) })),
    temperature: request.temperature,
    maxTokens: request.maxTokens,
  };
}

/** Canonical JSON: fixed key order, so equal requests always serialize alike. */
function canonicalJson(request: CanonicalRequest): string {
  const c = canonicalRequest(request);
  return JSON.stringify({
    system: c.system,
    messages: c.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: c.temperature,
    maxTokens: c.maxTokens,
  });
}

export function requestKey(request: CanonicalRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

export class Recorder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
    mkdirSync(dirname(this.path), { recursive: true });
  }

  /** Appends one call. One `write` per line with O_APPEND: concurrent writers never interleave a line. */
  record(request: CanonicalRequest, reply: LlmReply): void {
    const line: RecordLine = {
      version: 1,
      key: requestKey(request),
      recordedAt: new Date().toISOString(),
      request: canonicalRequest(request),
      reply: {
        text: reply.text,
        provider: reply.provider,
        model: reply.model,
        tokens: reply.tokens,
        costUsd: reply.costUsd,
        unpriced: reply.unpriced,
        finishReason: reply.finishReason,
        ...(reply.tokensEstimated ? { tokensEstimated: true } : {}),
      },
    };
    appendFileSync(this.path, `${JSON.stringify(line)}\n`, { flag: 'a' });
  }
}

/** Thrown when a replay file has no answer for a request. Code `replay-miss`. */
export class ReplayMissError extends AutomeshError<'replay-miss'> {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super('replay-miss', message);
    this.name = 'ReplayMissError';
  }
}

/** Similarity of two strings by shared character bigrams (Dice coefficient), on their first 20k characters. */
function similarity(a: string, b: string): number {
  const grams = (s: string): Map<string, number> => {
    const m = new Map<string, number>();
    const text = s.slice(0, 20_000);
    for (let i = 0; i < text.length - 1; i++) {
      const g = text.slice(i, i + 2);
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    return m;
  };
  const ga = grams(a);
  const gb = grams(b);
  let shared = 0;
  let total = 0;
  for (const [g, n] of ga) {
    shared += Math.min(n, gb.get(g) ?? 0);
    total += n;
  }
  for (const n of gb.values()) total += n;
  return total === 0 ? 1 : (2 * shared) / total;
}

function firstDifference(a: CanonicalRequest, b: CanonicalRequest): string {
  const show = (s: string, at: number): string => JSON.stringify(s.slice(Math.max(0, at - 20), at + 40));
  const diffAt = (x: string, y: string): number => {
    let i = 0;
    while (i < x.length && i < y.length && x[i] === y[i]) i++;
    return i;
  };
  if (a.system !== b.system) {
    const at = diffAt(a.system, b.system);
    return `the system prompt differs at character ${at}: recorded ${show(b.system, at)}, asked ${show(a.system, at)}`;
  }
  if (a.messages.length !== b.messages.length) {
    return `recorded ${b.messages.length} message(s), asked ${a.messages.length}`;
  }
  for (let i = 0; i < a.messages.length; i++) {
    const x = a.messages[i] as { role: string; content: string };
    const y = b.messages[i] as { role: string; content: string };
    if (x.role !== y.role) return `message ${i + 1} has role ${y.role} recorded, ${x.role} asked`;
    if (x.content !== y.content) {
      const at = diffAt(x.content, y.content);
      return `message ${i + 1} differs at character ${at}: recorded ${show(y.content, at)}, asked ${show(x.content, at)}`;
    }
  }
  if (a.temperature !== b.temperature) return `temperature ${b.temperature} recorded, ${a.temperature} asked`;
  if (a.maxTokens !== b.maxTokens) return `maxTokens ${b.maxTokens} recorded, ${a.maxTokens} asked`;
  return 'no visible difference';
}

export class Replayer {
  readonly path: string;
  private readonly byKey = new Map<string, { request: CanonicalRequest; replies: RecordedReply[]; next: number }>();

  constructor(path: string) {
    this.path = resolve(path);
    if (!existsSync(this.path)) {
      throw new Error(`AUTOMESH_REPLAY=${path}: no such file. Record one first with AUTOMESH_RECORD=${path}.`);
    }
    const lines = readFileSync(this.path, 'utf8').split('\n');
    lines.forEach((text, index) => {
      if (!text.trim()) return;
      let line: RecordLine;
      try {
        line = JSON.parse(text) as RecordLine;
      } catch {
        throw new Error(`AUTOMESH_REPLAY=${path}: line ${index + 1} is not valid JSON; the file is damaged.`);
      }
      if (line.version !== 1 || typeof line.key !== 'string' || !line.reply || !line.request) {
        throw new Error(`AUTOMESH_REPLAY=${path}: line ${index + 1} is not a recorded call.`);
      }
      const entry = this.byKey.get(line.key) ?? { request: line.request, replies: [], next: 0 };
      entry.replies.push(line.reply);
      this.byKey.set(line.key, entry);
    });
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The recorded reply for `request`, or a {@link ReplayMissError} naming the closest recorded request. */
  answer(request: CanonicalRequest): RecordedReply {
    const key = requestKey(request);
    const entry = this.byKey.get(key);
    if (entry) {
      const reply = entry.replies[Math.min(entry.next, entry.replies.length - 1)] as RecordedReply;
      entry.next += 1;
      return reply;
    }
    throw new ReplayMissError(this.describeMiss(request, key), key);
  }

  private describeMiss(request: CanonicalRequest, key: string): string {
    const asked = canonicalRequest(request);
    const base = `AUTOMESH_REPLAY=${this.path} has no recorded reply for this request (hash ${key.slice(0, 12)}).`;
    if (this.byKey.size === 0) return `${base} The file records no calls.`;
    const askedJson = canonicalJson(asked);
    let best: { request: CanonicalRequest; score: number } | null = null;
    for (const entry of this.byKey.values()) {
      const score = similarity(askedJson, canonicalJson(entry.request));
      if (!best || score > best.score) best = { request: entry.request, score };
    }
    const closest = best as { request: CanonicalRequest; score: number };
    const firstUser = closest.request.messages[0]?.content ?? '';
    return (
      `${base} Closest recorded request (${Math.round(closest.score * 100)}% alike; first message `
      + `${JSON.stringify(firstUser.slice(0, 80))}): ${firstDifference(asked, closest.request)}. `
      + 'Record again with AUTOMESH_RECORD if the prompts changed on purpose.'
    );
  }
}

/** The parts of `request` that decide its answer, with the settings' temperature and most tokens where it sets none. */
function canonicalOf(request: LlmRequest, settings: Settings): CanonicalRequest {
  const { temperature, maxTokens } = callParameters(request, settings);
  return {
    system: request.system,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature,
    maxTokens,
  };
}

/** Answers every call from a recorded file (`AUTOMESH_REPLAY`); the model it wraps is never called. */
export function replayMiddleware(replayer: Replayer, settings: Settings): ModelMiddleware {
  return {
    wrapGenerate: async ({ request }) => {
      checkRequest(request);
      const started = performance.now();
      if (request.signal?.aborted) throw new LlmAbortError();
      const recorded = replayer.answer(canonicalOf(request, settings));
      return {
        ...recorded,
        tokensEstimated: recorded.tokensEstimated ?? false,
        durationMs: performance.now() - started,
        failures: [],
        replayed: true,
      };
    },
  };
}

/** Appends every answered call to a file (`AUTOMESH_RECORD`); failed calls are not recorded. */
export function recordMiddleware(recorder: Recorder, settings: Settings): ModelMiddleware {
  return {
    wrapGenerate: async ({ request, doGenerate }) => {
      const reply = await doGenerate();
      recorder.record(canonicalOf(request, settings), reply);
      return reply;
    },
  };
}

/**
 * The record and replay middleware the settings ask for, outermost first: `AUTOMESH_REPLAY` (which answers every
 * call, so a recording behind it records nothing), then `AUTOMESH_RECORD`. Empty when neither is set.
 */
export function recordReplayMiddleware(settings: Settings): ModelMiddleware[] {
  const middleware: ModelMiddleware[] = [];
  if (settings.AUTOMESH_REPLAY) middleware.push(replayMiddleware(new Replayer(settings.AUTOMESH_REPLAY), settings));
  if (settings.AUTOMESH_RECORD) middleware.push(recordMiddleware(new Recorder(settings.AUTOMESH_RECORD), settings));
  return middleware;
}
