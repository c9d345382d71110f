/**
 * LLM chain benchmark, against the local wire-protocol server (test/llm-server) in this process: real HTTP on
 * 127.0.0.1 through the official SDKs, replies scripted per provider.
 *
 * (a) Added latency of `LlmChain.complete` over a raw SDK call, per provider: the raw official client built the
 *     way the provider builds it (same base URL, maxRetries 0) and making the same request, against a chain with
 *     only that provider configured. After a warm-up, raw and chain calls run sequentially in alternating blocks
 *     (the block order flips each time) so that drift and noise fall on both alike.
 * (b) Failover from a provider that refuses connections (LLM_ENDPOINT at a closed local port) to claude: the
 *     chain call minus the median claude-only chain call, cooldowns reset before every call.
 * (c) Failover from a provider that hangs (claude) to vllm at LLM_TIMEOUT = 0.5 s with LLM_MAX_RETRIES = 0: the
 *     chain call minus LLM_TIMEOUT minus the median vllm-only chain call, cooldowns reset before every call.
 *
 * Usage: node --import tsx bench/llm.ts [--calls N] [--warmup N] [--block N] [--refused N] [--hangs N]
 *        [--providers claude,vllm,azure,gemini]
 * (those options apply when this file runs on its own; `npm run bench` uses the defaults).
 * Exits 0 when the benchmark ran, whether or not its targets were met; non-zero only if it could not run.
 */

import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI, { AzureOpenAI } from 'openai';
import {
  type Completion,
  LlmChain,
  type LlmReply,
  type LlmRequest,
  loadSettings,
  PROVIDER_NAMES,
  type Provider,
  type ProviderName,
  resetCooldowns,
  type Settings,
} from '../src/index.js';
import { LlmServer } from '../test/llm-server/server.js';
import { positiveInt } from './lib/args.js';
import type { Figure } from './lib/figures.js';
import { heading, loadLine } from './lib/print.js';
import { runIfMain } from './lib/standalone.js';
import { ms, type Summary, summarize, table } from './lib/stats.js';

const BENCH = 'llm';

/** Targets (from the project brief). */
const ADDED_MEDIAN_TARGET_MS = 1;
const REFUSED_FAILOVER_TARGET_MS = 50;
const HANG_FAILOVER_TARGET_MS = 50;
/** LLM_TIMEOUT of the hang scenario, seconds. */
const HANG_TIMEOUT_S = 0.5;

const KEYS: Record<ProviderName, string> = {
  claude: 'sk-ant-bench-claude-key-0123456789',
  vllm: 'vllm-bench-key-0123456789',
  azure: 'azure-bench-key-0123456789abcdef',
  gemini: 'gemini-bench-key-0123456789',
};
const MODELS: Record<ProviderName, string> = {
  claude: 'claude-sonnet-4-6',
  vllm: 'qwen2.5-coder-32b',
  azure: 'gpt-4o',
  gemini: 'gemini-2.5-flash',
};
const AZURE_API_VERSION = '2024-10-21';

const SYSTEM = 'You are a math expert. Store the answer in `result`.';
const PROMPT = 'Calculate the factorial of 10';
const REQUEST: LlmRequest = { system: SYSTEM, messages: [{ role: 'user', content: PROMPT }] };
const REPLY =
  'Here is the code:\n\n```javascript\nlet f = 1;\nfor (let i = 2; i <= 10; i++) f *= i;\nresult = f;\n```\n\nThis computes 10! = 3628800.';

export interface LlmOptions {
  /** Timed calls per provider and per side (raw SDK, chain). */
  calls: number;
  /** Untimed calls per provider and side before timing. */
  warmup: number;
  /** Calls per block of the raw/chain interleaving. */
  block: number;
  /** Timed failover calls (refused connection), each paired with a baseline call. */
  refused: number;
  /** Timed failover calls (hang), each paired with a baseline call. */
  hangs: number;
  providers: ProviderName[];
}

/** Reads this benchmark's options; others (meant for other benchmarks) are ignored. */
export function parseLlmArgs(argv: readonly string[]): LlmOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      calls: { type: 'string' },
      warmup: { type: 'string' },
      block: { type: 'string' },
      refused: { type: 'string' },
      hangs: { type: 'string' },
      providers: { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
  });
  const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
  const providers = (str(values.providers) ?? PROVIDER_NAMES.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of providers) {
    if (!(PROVIDER_NAMES as readonly string[]).includes(p)) throw new Error(`--providers: unknown provider ${p}`);
  }
  return {
    calls: positiveInt('calls', str(values.calls), 300),
    warmup: positiveInt('warmup', str(values.warmup), 50),
    block: positiveInt('block', str(values.block), 25),
    refused: positiveInt('refused', str(values.refused), 50),
    hangs: positiveInt('hangs', str(values.hangs), 10),
    providers: providers as ProviderName[],
  };
}

// ---- clients -------------------------------------------------------------------------------------------

/** Settings pointing the given providers, in that order, at the local server. */
function settingsFor(server: LlmServer, order: ProviderName[], extra: Record<string, string> = {}): Settings {
  const env: Record<string, string> = {
    LLM_PROVIDER_ORDER: order.join(','),
    LLM_TIMEOUT: '30',
    LLM_MAX_RETRIES: '2',
    LLM_COOLDOWN: '30',
  };
  if (order.includes('claude')) {
    Object.assign(env, {
      CLAUDE_API_KEY: KEYS.claude,
      CLAUDE_ENDPOINT: server.anthropicBaseUrl,
      CLAUDE_MODEL: MODELS.claude,
    });
  }
  if (order.includes('vllm')) {
    Object.assign(env, { LLM_ENDPOINT: server.url, LLM_MODEL: MODELS.vllm, LLM_API_KEY: KEYS.vllm });
  }
  if (order.includes('azure')) {
    Object.assign(env, {
      AZURE_API_KEY: KEYS.azure,
      AZURE_ENDPOINT: server.azureEndpoint,
      AZURE_DEPLOYMENT: MODELS.azure,
      AZURE_API_VERSION,
    });
  }
  if (order.includes('gemini')) {
    Object.assign(env, {
      GEMINI_API_KEY: KEYS.gemini,
      GEMINI_ENDPOINT: server.geminiBaseUrl,
      GEMINI_MODEL: MODELS.gemini,
    });
  }
  return loadSettings({ env: { ...env, ...extra }, envFile: false });
}

type Call = () => Promise<string>;

/**
 * One raw SDK call per invocation: the client built as src/llm/<provider>.ts builds it (same base URL, SDK
 * retries off) and the same request body (model, max tokens, temperature where the provider sends one,
 * system prompt, messages). Returns the reply text.
 */
function rawCall(server: LlmServer, provider: ProviderName, settings: Settings): Call {
  const maxTokens = settings.LLM_MAX_TOKENS;
  const temperature = settings.LLM_TEMPERATURE;
  const chatMessages = [
    { role: 'system' as const, content: SYSTEM },
    { role: 'user' as const, content: PROMPT },
  ];
  switch (provider) {
    case 'claude': {
      const client = new Anthropic({ apiKey: KEYS.claude, baseURL: server.anthropicBaseUrl, maxRetries: 0 });
      return async () => {
        const reply = await client.messages.create({
          model: MODELS.claude,
          max_tokens: maxTokens,
          system: SYSTEM,
          messages: [{ role: 'user', content: PROMPT }],
        });
        return reply.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      };
    }
    case 'vllm': {
      // The provider adds /v1 to LLM_ENDPOINT; openaiBaseUrl is that URL.
      const client = new OpenAI({ apiKey: KEYS.vllm, baseURL: server.openaiBaseUrl, maxRetries: 0 });
      return async () => {
        const reply = await client.chat.completions.create({
          model: MODELS.vllm,
          temperature,
          max_tokens: maxTokens,
          messages: chatMessages,
        });
        return reply.choices[0]?.message.content ?? '';
      };
    }
    case 'azure': {
      const client = new AzureOpenAI({
        apiKey: KEYS.azure,
        endpoint: server.azureEndpoint,
        deployment: MODELS.azure,
        apiVersion: AZURE_API_VERSION,
        maxRetries: 0,
      });
      return async () => {
        const reply = await client.chat.completions.create({
          model: MODELS.azure,
          temperature,
          max_tokens: maxTokens,
          messages: chatMessages,
        });
        return reply.choices[0]?.message.content ?? '';
      };
    }
    case 'gemini': {
      // No retryOptions: the SDK makes exactly one try, as in the provider.
      const client = new GoogleGenAI({ apiKey: KEYS.gemini, httpOptions: { baseUrl: server.geminiBaseUrl } });
      return async () => {
        const reply = await client.models.generateContent({
          model: MODELS.gemini,
          contents: [{ role: 'user', parts: [{ text: PROMPT }] }],
          config: { systemInstruction: SYSTEM, temperature, maxOutputTokens: maxTokens },
        });
        return (reply.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? '').join('');
      };
    }
  }
}

function chainCall(chain: LlmChain): Call {
  return async () => (await chain.complete(REQUEST)).text;
}

async function timed(call: Call, expected = REPLY): Promise<number> {
  const started = performance.now();
  const text = await call();
  const took = performance.now() - started;
  if (text !== expected) throw new Error(`unexpected reply text: ${JSON.stringify(text.slice(0, 80))}`);
  return took;
}

async function timedReply(chain: LlmChain): Promise<{ ms: number; reply: LlmReply }> {
  const started = performance.now();
  const reply = await chain.complete(REQUEST);
  return { ms: performance.now() - started, reply };
}

// ---- (a) added latency ---------------------------------------------------------------------------------

interface OverheadResult {
  provider: ProviderName;
  raw: number[];
  chain: number[];
  /** Per block pair: chain block median minus raw block median. */
  blockDiffs: number[];
}

async function measureOverhead(
  server: LlmServer,
  provider: ProviderName,
  options: LlmOptions,
): Promise<OverheadResult> {
  const settings = settingsFor(server, [provider]);
  const chain = new LlmChain(settings);
  const sides: Array<{ key: 'raw' | 'chain'; call: Call }> = [
    { key: 'raw', call: rawCall(server, provider, settings) },
    { key: 'chain', call: chainCall(chain) },
  ];
  for (let i = 0; i < options.warmup; i++) {
    for (const side of sides) await timed(side.call);
  }
  const samples: Record<'raw' | 'chain', number[]> = { raw: [], chain: [] };
  const blockDiffs: number[] = [];
  const blocks = Math.ceil(options.calls / options.block);
  for (let b = 0; b < blocks; b++) {
    const size = Math.min(options.block, options.calls - b * options.block);
    // Alternate which side goes first, so neither always follows the other.
    const order = b % 2 === 0 ? sides : [...sides].reverse();
    const blockMedian: Record<'raw' | 'chain', number> = { raw: 0, chain: 0 };
    for (const side of order) {
      const block: number[] = [];
      for (let i = 0; i < size; i++) block.push(await timed(side.call));
      samples[side.key].push(...block);
      blockMedian[side.key] = summarize(block).median;
    }
    blockDiffs.push(blockMedian.chain - blockMedian.raw);
  }
  return { provider, raw: samples.raw, chain: samples.chain, blockDiffs };
}

/**
 * The chain's own bookkeeping, without HTTP: a chain over a stub provider that answers at once, against the
 * stub called directly. Microseconds per call (medians).
 */
async function measureBookkeeping(): Promise<{ chainUs: number; stubUs: number; n: number }> {
  const completion: Completion = {
    text: REPLY,
    model: MODELS.claude,
    inputTokens: 120,
    outputTokens: 45,
    finishReason: 'stop',
  };
  const stub: Provider = {
    name: 'claude',
    model: MODELS.claude,
    endpoint: 'http://stub.invalid',
    complete: () => Promise.resolve(completion),
  };
  const chain = new LlmChain(loadSettings({ env: {}, envFile: false }), { providers: [stub] });
  const callOptions = { signal: new AbortController().signal, timeoutMs: 1000, temperature: 0.2, maxTokens: 4096 };
  const n = 10_000;
  for (let i = 0; i < 2000; i++) {
    await chain.complete(REQUEST);
    await stub.complete(REQUEST, callOptions);
  }
  const viaChain: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await chain.complete(REQUEST);
    viaChain.push(performance.now() - t);
    t = performance.now();
    await stub.complete(REQUEST, callOptions);
    direct.push(performance.now() - t);
  }
  return { chainUs: summarize(viaChain).median * 1000, stubUs: summarize(direct).median * 1000, n };
}

// ---- (b), (c) failover ---------------------------------------------------------------------------------

/** A local port nothing listens on: bound to port 0, noted, closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok, fail) => {
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => ok());
  });
  const address = probe.address();
  if (address === null || typeof address === 'string')
    throw new Error('could not read the port of a local probe server');
  await new Promise<void>((ok) => probe.close(() => ok()));
  return address.port;
}

interface FailoverResult {
  /** Failover chain calls, ms. */
  calls: number[];
  /** Baseline chain calls (the answering provider alone), ms. */
  baseline: number[];
  /** Each failover call minus the baseline median (and minus LLM_TIMEOUT for a hang). */
  costs: number[];
  /** Failure kinds the failover calls reported for the first provider. */
  kinds: string[];
}

/**
 * Failover calls paired with baseline calls, in alternating order, cooldowns reset before each call so the
 * failing provider is really tried every time. `subtractMs` (LLM_TIMEOUT for a hang) comes off each cost.
 */
async function measureFailover(
  failover: LlmChain,
  baseline: LlmChain,
  answering: ProviderName,
  n: number,
  warmup: number,
  subtractMs: number,
): Promise<FailoverResult> {
  const kinds: string[] = [];
  const one = async (chain: LlmChain, isFailover: boolean): Promise<number> => {
    resetCooldowns();
    const { ms: took, reply } = await timedReply(chain);
    if (reply.text !== REPLY || reply.provider !== answering) {
      throw new Error(
        `expected a reply from ${answering}; got ${reply.provider}: ${JSON.stringify(reply.text.slice(0, 80))}`,
      );
    }
    if (isFailover) {
      if (reply.failures.length !== 1) {
        throw new Error(`expected exactly one failure before the failover; got ${JSON.stringify(reply.failures)}`);
      }
      kinds.push(reply.failures[0]?.kind ?? '?');
    } else if (reply.failures.length > 0) {
      throw new Error(`the baseline call failed first: ${JSON.stringify(reply.failures)}`);
    }
    return took;
  };
  for (let i = 0; i < warmup; i++) {
    await one(baseline, false);
    await one(failover, true);
  }
  kinds.length = 0;
  const calls: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      base.push(await one(baseline, false));
      calls.push(await one(failover, true));
    } else {
      calls.push(await one(failover, true));
      base.push(await one(baseline, false));
    }
  }
  resetCooldowns();
  const baseMedian = summarize(base).median;
  return { calls, baseline: base, costs: calls.map((c) => c - subtractMs - baseMedian), kinds };
}

/** Raw openai-SDK calls to the closed port: what the refused connection itself costs, for reference. */
async function rawRefused(port: number, n: number): Promise<number[]> {
  const client = new OpenAI({ apiKey: KEYS.vllm, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    try {
      await client.chat.completions.create({ model: MODELS.vllm, messages: [{ role: 'user', content: PROMPT }] });
      throw new Error(`something answered at 127.0.0.1:${port}, which should be closed`);
    } catch (err) {
      if (!(err instanceof OpenAI.APIConnectionError)) throw err;
    }
    out.push(performance.now() - started);
  }
  return out;
}

function kindsLine(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, c]) => `${k} x${c}`).join(', ');
}

// ---- run -----------------------------------------------------------------------------------------------

export async function runLlmBenchmark(options: LlmOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (name: string, value: string, target = '-', met: boolean | null = null): void => {
    figures.push({ benchmark: BENCH, name, value, target, met });
  };
  const started = performance.now();

  heading('llm benchmark');
  console.log(
    `node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}); `
      + 'the official SDKs over real HTTP to the local wire-protocol server (test/llm-server) in this process',
  );
  const startLoad = loadavg()[0] ?? 0;
  console.log(
    `load average at start (1, 5, 15 min): ${loadLine()}`
      + (startLoad > availableParallelism() * 0.5
        ? `  -- WARNING: the machine is busy (load > ${availableParallelism() * 0.5}); timings will be inflated and noisy`
        : ''),
  );
  console.log(
    'Quantiles interpolate linearly between ranks; times are wall clock. The server runs in the same process '
      + 'and event loop, so every figure includes its work too (equally on both sides of each comparison).',
  );

  const server = await LlmServer.start();
  resetCooldowns();
  try {
    for (const p of PROVIDER_NAMES)
      server.respond(p, () => ({ kind: 'text', text: REPLY, inputTokens: 120, outputTokens: 45 }));

    // ---- (a)
    heading('(a) added latency of LlmChain.complete over a raw SDK call');
    console.log(
      `Per provider: ${options.warmup} untimed warm-up calls per side, then ${options.calls} timed sequential `
        + `calls per side in alternating blocks of ${options.block} (block order flips each time). Raw = the official `
        + 'SDK client built as the provider builds it (same base URL, maxRetries 0), same request body; chain = a '
        + 'LlmChain with only that provider configured.',
    );
    const results: OverheadResult[] = [];
    for (const provider of options.providers) {
      const r = await measureOverhead(server, provider, options);
      results.push(r);
      const raw = summarize(r.raw);
      const chain = summarize(r.chain);
      console.log(
        `${provider.padEnd(6)}  raw ${ms(raw.median)} (p95 ${ms(raw.p95)})  chain ${ms(chain.median)} `
          + `(p95 ${ms(chain.p95)})  added ${ms(chain.median - raw.median)}`,
      );
    }
    const rows: string[][] = [];
    for (const r of results) {
      const raw = summarize(r.raw);
      const chain = summarize(r.chain);
      const added = chain.median - raw.median;
      const blocks: Summary = summarize(r.blockDiffs);
      const met = added <= ADDED_MEDIAN_TARGET_MS;
      rows.push([
        r.provider,
        ms(raw.median),
        ms(raw.p95),
        ms(chain.median),
        ms(chain.p95),
        ms(added),
        `${(chain.median / raw.median).toFixed(3)}x`,
        `${ms(blocks.min)} .. ${ms(blocks.max)}`,
        met ? 'met' : 'MISSED',
      ]);
      add(`${r.provider}: raw SDK call, median / p95`, `${ms(raw.median)} / ${ms(raw.p95)}`);
      add(`${r.provider}: chain call, median / p95`, `${ms(chain.median)} / ${ms(chain.p95)}`);
      add(
        `${r.provider}: added latency, median (chain/raw)`,
        `${ms(added)} (${(chain.median / raw.median).toFixed(2)}x)`,
        `<= ${ADDED_MEDIAN_TARGET_MS} ms`,
        met,
      );
    }
    console.log('');
    console.log(
      table(
        [
          'provider',
          'raw median',
          'raw p95',
          'chain median',
          'chain p95',
          'added (median)',
          'chain/raw',
          'added per block pair',
          'target',
        ],
        rows,
      ),
    );
    console.log(
      `added = chain median - raw median; target <= ${ADDED_MEDIAN_TARGET_MS} ms per provider. "added per block `
        + 'pair" is the range of (chain block median - raw block median) over the block pairs: how much the figure moves with noise.',
    );
    const book = await measureBookkeeping();
    console.log(
      `The chain's own bookkeeping, no HTTP (a stub provider that answers at once, ${book.n} calls): `
        + `chain.complete median ${book.chainUs.toFixed(1)} us vs the stub alone ${book.stubUs.toFixed(1)} us, so `
        + `${(book.chainUs - book.stubUs).toFixed(1)} us per call; the rest of "added" is the provider adapter `
        + '(per-call AbortController, timer, signal and timeout handed to the SDK) and noise.',
    );
    add('chain bookkeeping alone (stub provider), median', `${(book.chainUs - book.stubUs).toFixed(1)} us`);

    // ---- (b)
    heading('(b) failover from a refused connection: vllm (closed port) -> claude');
    const port = await closedPort();
    const refusedChain = new LlmChain(
      settingsFor(server, ['vllm', 'claude'], { LLM_ENDPOINT: `http://127.0.0.1:${port}` }),
    );
    const claudeOnly = new LlmChain(settingsFor(server, ['claude']));
    const refused = await measureFailover(refusedChain, claudeOnly, 'claude', options.refused, 5, 0);
    const rawRefusal = summarize(await rawRefused(port, Math.min(options.refused, 20)));
    const refusedCalls = summarize(refused.calls);
    const refusedBase = summarize(refused.baseline);
    const refusedCost = summarize(refused.costs);
    const refusedMet = refusedCost.median <= REFUSED_FAILOVER_TARGET_MS;
    console.log(
      `LLM_ENDPOINT=http://127.0.0.1:${port} (bound to port 0, then closed); order vllm,claude; `
        + `${options.refused} calls paired with claude-only baseline calls, resetCooldowns() before every call.`,
    );
    console.log(
      `  failover call         median ${ms(refusedCalls.median)}, p95 ${ms(refusedCalls.p95)}, max ${ms(refusedCalls.max)}`,
    );
    console.log(`  claude-only baseline  median ${ms(refusedBase.median)}, p95 ${ms(refusedBase.p95)}`);
    console.log(
      `  failover cost (call - baseline median)  median ${ms(refusedCost.median)}, p95 ${ms(refusedCost.p95)}`,
    );
    console.log(`  first provider's failure: ${kindsLine(refused.kinds)}`);
    console.log(
      `  for reference, a raw openai-SDK call to the closed port: median ${ms(rawRefusal.median)}, `
        + `p95 ${ms(rawRefusal.p95)} (n=${rawRefusal.n})`,
    );
    console.log(
      `Target failover cost median <= ${REFUSED_FAILOVER_TARGET_MS} ms: ${refusedMet ? 'met' : 'MISSED'} `
        + `(${ms(refusedCost.median)})`,
    );
    add(
      'refused connection: failover cost, median / p95',
      `${ms(refusedCost.median)} / ${ms(refusedCost.p95)}`,
      `<= ${REFUSED_FAILOVER_TARGET_MS} ms`,
      refusedMet,
    );

    // ---- (c)
    heading(`(c) failover from a hang: claude (hangs) -> vllm, LLM_TIMEOUT=${HANG_TIMEOUT_S}, LLM_MAX_RETRIES=0`);
    server.respond('claude', () => ({ kind: 'hang' }));
    const hangExtra = { LLM_TIMEOUT: String(HANG_TIMEOUT_S), LLM_MAX_RETRIES: '0' };
    const hangChain = new LlmChain(settingsFor(server, ['claude', 'vllm'], hangExtra));
    const vllmOnly = new LlmChain(settingsFor(server, ['vllm'], hangExtra));
    const timeoutMs = HANG_TIMEOUT_S * 1000;
    const hang = await measureFailover(hangChain, vllmOnly, 'vllm', options.hangs, 1, timeoutMs);
    const hangCalls = summarize(hang.calls);
    const hangBase = summarize(hang.baseline);
    const hangCost = summarize(hang.costs);
    const hangMet = hangCost.median <= HANG_FAILOVER_TARGET_MS;
    console.log(
      `${options.hangs} calls paired with vllm-only baseline calls, resetCooldowns() before every call; `
        + `still-hung requests at the end: ${server.hanging()}.`,
    );
    console.log(
      `  failover call         median ${ms(hangCalls.median)}, p95 ${ms(hangCalls.p95)}, max ${ms(hangCalls.max)}`,
    );
    console.log(`  vllm-only baseline    median ${ms(hangBase.median)}, p95 ${ms(hangBase.p95)}`);
    console.log(
      `  failover cost (call - LLM_TIMEOUT - baseline median)  median ${ms(hangCost.median)}, p95 ${ms(hangCost.p95)}`,
    );
    console.log(`  first provider's failure: ${kindsLine(hang.kinds)}`);
    console.log(
      '  Note: a timeout is retryable, so with LLM_MAX_RETRIES=r the hung provider is tried 1+r times before '
        + 'the failover: the hang costs (1+r) x LLM_TIMEOUT plus the backoff waits between tries (default 500 ms '
        + 'doubling, half jittered; with the default r=2 and LLM_TIMEOUT=120 s that is about 6 minutes). This figure '
        + 'uses r=0.',
    );
    console.log(
      `Target failover cost median <= ${HANG_FAILOVER_TARGET_MS} ms: ${hangMet ? 'met' : 'MISSED'} (${ms(hangCost.median)})`,
    );
    add(
      `hang: failover cost beyond LLM_TIMEOUT, median / p95`,
      `${ms(hangCost.median)} / ${ms(hangCost.p95)}`,
      `<= ${HANG_FAILOVER_TARGET_MS} ms`,
      hangMet,
    );
  } finally {
    resetCooldowns();
    await server.close();
  }
  console.log(
    `\nllm benchmark took ${((performance.now() - started) / 1000).toFixed(1)} s; `
      + `load average at end (1, 5, 15 min): ${loadLine()}`,
  );
  return figures;
}

await runIfMain(import.meta.url, 'llm', (argv) => runLlmBenchmark(parseLlmArgs(argv)));
