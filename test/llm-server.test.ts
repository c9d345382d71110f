// The local LLM server (test/llm-server/) driven by the real provider SDKs: each protocol's success, error, 429 with
// retry hints, malformed body, empty reply and hang-then-abort; plus scripting rules, the control API, the standalone
// entry point and a close() that never leaves the process hanging.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI, { AzureOpenAI } from 'openai';
import { LlmServer, type ReceivedRequest, type ScriptedReply } from './llm-server/server.js';

let server: LlmServer;

before(async () => {
  server = await LlmServer.start();
});
beforeEach(() => server.reset());
after(() => server.close());

const SYSTEM = 'You write JavaScript.';
const PROMPT = 'Sum the revenue column.';
/** Default input tokens the server derives for SYSTEM + PROMPT: ceil(chars / 4). */
const DEFAULT_INPUT = Math.ceil((SYSTEM.length + PROMPT.length) / 4);

const anthropicClient = () => new Anthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'sk-ant-test', maxRetries: 0 });
const openaiClient = () => new OpenAI({ baseURL: server.openaiBaseUrl, apiKey: 'vllm-test', maxRetries: 0 });
const azureClient = () =>
  new AzureOpenAI({
    endpoint: server.azureEndpoint,
    apiKey: 'azure-test',
    deployment: 'gpt-4o-dep',
    apiVersion: '2024-10-21',
    maxRetries: 0,
  });
const geminiClient = () => new GoogleGenAI({ apiKey: 'gemini-test', httpOptions: { baseUrl: server.geminiBaseUrl } });

function callAnthropic(signal?: AbortSignal) {
  return anthropicClient().messages.create(
    { model: 'claude-test-1', max_tokens: 256, system: SYSTEM, messages: [{ role: 'user', content: PROMPT }] },
    signal ? { signal } : undefined,
  );
}
function callOpenAI(signal?: AbortSignal) {
  return openaiClient().chat.completions.create(
    {
      model: 'qwen-coder',
      temperature: 0.2,
      max_tokens: 256,
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: PROMPT },
      ],
    },
    signal ? { signal } : undefined,
  );
}
function callAzure(signal?: AbortSignal) {
  return azureClient().chat.completions.create(
    {
      model: '',
      temperature: 0.2,
      max_completion_tokens: 256,
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: PROMPT },
      ],
    },
    signal ? { signal } : undefined,
  );
}
function callGemini(signal?: AbortSignal) {
  return geminiClient().models.generateContent({
    model: 'gemini-2.5-flash',
    contents: PROMPT,
    config: {
      systemInstruction: SYSTEM,
      temperature: 0.2,
      maxOutputTokens: 256,
      ...(signal ? { abortSignal: signal } : {}),
    },
  });
}

function only(provider: ReceivedRequest['provider']): ReceivedRequest {
  const reqs = server.requests(provider);
  assert.equal(reqs.length, 1, `expected one ${provider} request, got ${reqs.length}`);
  return reqs[0] as ReceivedRequest;
}

function assertReceived(req: ReceivedRequest, model: string, auth: { header: string; value: string }): void {
  assert.equal(req.model, model);
  assert.equal(req.system, SYSTEM);
  assert.deepEqual(req.messages, [{ role: 'user', content: PROMPT }]);
  assert.equal(req.headers[auth.header], auth.value);
  assert.equal(req.method, 'POST');
  assert.ok(Math.abs(Date.now() - req.at) < 10_000);
}

/** Starts a call against a `hang` reply, aborts it once the server holds it, and checks both sides let go. */
async function hangThenAbort(
  provider: ReceivedRequest['provider'],
  call: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  server.script(provider, { kind: 'hang' });
  const controller = new AbortController();
  const pending = call(controller.signal);
  pending.catch(() => {}); // observed below
  await waitFor(() => server.hanging() === 1, 'server holds the request');
  const t0 = Date.now();
  controller.abort();
  const err = await pending.then(
    () => assert.fail('a hung call must not resolve'),
    (e: unknown) => e,
  );
  assert.ok(Date.now() - t0 < 2000, 'abort is prompt');
  await waitFor(() => server.hanging() === 0, 'server releases the aborted request');
  return err;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isAbortError(e: unknown): boolean {
  return (
    e instanceof Error && (e.name === 'AbortError' || /abort/i.test(e.message) || /abort/i.test(e.constructor.name))
  );
}

describe('Anthropic Messages (claude)', () => {
  test('success: text, usage and stop reason parsed; model, system and key received', async () => {
    server.script(
      'claude',
      { kind: 'text', text: 'result = 42' },
      {
        kind: 'text',
        text: 'cut',
        inputTokens: 11,
        outputTokens: 256,
        finish: 'length',
        model: 'claude-test-1-20260101',
      },
    );
    const r = await callAnthropic();
    assert.equal(r.content[0]?.type, 'text');
    assert.equal(r.content[0]?.type === 'text' ? r.content[0].text : null, 'result = 42');
    assert.equal(r.stop_reason, 'end_turn');
    assert.equal(r.model, 'claude-test-1');
    assert.match(r.id, /^msg_/);
    assert.deepEqual(
      [r.usage.input_tokens, r.usage.output_tokens],
      [DEFAULT_INPUT, Math.ceil('result = 42'.length / 4)],
    );
    // SDK 1.12 sends the API key as `Authorization: Bearer`, not x-api-key.
    assertReceived(only('claude'), 'claude-test-1', { header: 'authorization', value: 'Bearer sk-ant-test' });
    assert.ok(only('claude').headers['anthropic-version']);
    assert.equal((only('claude').body as { max_tokens: number }).max_tokens, 256);

    const raw = await anthropicClient()
      .messages.create({
        model: 'claude-test-1',
        max_tokens: 256,
        system: SYSTEM,
        messages: [{ role: 'user', content: PROMPT }],
      })
      .withResponse();
    assert.equal(raw.data.stop_reason, 'max_tokens');
    assert.equal(raw.data.model, 'claude-test-1-20260101');
    assert.deepEqual([raw.data.usage.input_tokens, raw.data.usage.output_tokens], [11, 256]);
    assert.match(raw.response.headers.get('request-id') ?? '', /^req_/);
    assert.match(raw.request_id ?? '', /^req_/);
  });

  test('error: SDK error class, status, type and message from the body', async () => {
    server.script(
      'claude',
      { kind: 'error', status: 400, message: 'max_tokens: too large' },
      { kind: 'error', status: 529 },
    );
    const e = await callAnthropic().catch((x: unknown) => x);
    assert.ok(e instanceof Anthropic.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_request_error');
    assert.equal(e.apiMessage, 'max_tokens: too large');
    assert.match(e.message, /max_tokens: too large/);
    const overloaded = await callAnthropic().catch((x: unknown) => x);
    assert.ok(overloaded instanceof Anthropic.InternalServerError);
    assert.equal(overloaded.status, 529);
    assert.equal(overloaded.type, 'overloaded_error');
  });

  test('429 carries retry-after on the error headers', async () => {
    server.script('claude', { kind: 'error', status: 429, message: 'rate limited', retryAfter: 7 });
    const e = await callAnthropic().catch((x: unknown) => x);
    assert.ok(e instanceof Anthropic.RateLimitError);
    assert.equal(e.headers?.get('retry-after'), '7');
    assert.equal(e.type, 'rate_limit_error');
    assert.match(e.message, /rate limited/);
  });

  test('malformed body: the SDK throws', async () => {
    server.script('claude', { kind: 'malformed' });
    await assert.rejects(callAnthropic(), SyntaxError);
  });

  test('empty reply: content []', async () => {
    server.script('claude', { kind: 'empty' });
    const r = await callAnthropic();
    assert.deepEqual(r.content, []);
    assert.equal(r.usage.output_tokens, 0);
  });

  test('hang, aborted with an AbortSignal', async () => {
    const e = await hangThenAbort('claude', (signal) => callAnthropic(signal));
    assert.ok(e instanceof Anthropic.APIUserAbortError, String(e));
  });
});

describe('OpenAI Chat Completions (vllm)', () => {
  test('success: text, usage and finish reason parsed; model, system and key received', async () => {
    server.script(
      'vllm',
      { kind: 'text', text: 'result = 42' },
      { kind: 'text', text: 'cut', inputTokens: 11, outputTokens: 256, finish: 'length' },
    );
    const r = await callOpenAI();
    assert.equal(r.choices[0]?.message.content, 'result = 42');
    assert.equal(r.choices[0]?.finish_reason, 'stop');
    assert.equal(r.model, 'qwen-coder');
    assert.equal(r.object, 'chat.completion');
    assert.deepEqual(r.usage, { prompt_tokens: DEFAULT_INPUT, completion_tokens: 3, total_tokens: DEFAULT_INPUT + 3 });
    assertReceived(only('vllm'), 'qwen-coder', { header: 'authorization', value: 'Bearer vllm-test' });
    assert.equal(only('vllm').path, '/v1/chat/completions');

    const r2 = await callOpenAI();
    assert.equal(r2.choices[0]?.finish_reason, 'length');
    assert.deepEqual(r2.usage, { prompt_tokens: 11, completion_tokens: 256, total_tokens: 267 });
  });

  test('error: SDK error class, status and message from the body', async () => {
    server.script(
      'vllm',
      { kind: 'error', status: 400, message: "This model's maximum context length is 8192 tokens" },
      { kind: 'error', status: 503 },
    );
    const e = await callOpenAI().catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.message, "400 This model's maximum context length is 8192 tokens");
    assert.equal(e.type, 'BadRequestError');
    const unavailable = await callOpenAI().catch((x: unknown) => x);
    assert.ok(unavailable instanceof OpenAI.InternalServerError);
    assert.equal(unavailable.status, 503);
  });

  test('429 carries retry-after on the error headers', async () => {
    server.script('vllm', { kind: 'error', status: 429, message: 'too many requests', retryAfter: '2' });
    const e = await callOpenAI().catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.RateLimitError);
    assert.equal(e.headers?.get('retry-after'), '2');
    assert.match(e.message, /too many requests/);
  });

  test('malformed body: the SDK throws', async () => {
    server.script('vllm', { kind: 'malformed' });
    await assert.rejects(callOpenAI(), SyntaxError);
  });

  test("empty reply: content ''", async () => {
    server.script('vllm', { kind: 'empty' });
    const r = await callOpenAI();
    assert.equal(r.choices[0]?.message.content, '');
    assert.equal(r.usage?.completion_tokens, 0);
  });

  test('hang, aborted with an AbortSignal', async () => {
    const e = await hangThenAbort('vllm', (signal) => callOpenAI(signal));
    assert.ok(e instanceof OpenAI.APIUserAbortError, String(e));
  });
});

describe('Azure OpenAI (azure)', () => {
  test('success: text, usage and finish reason parsed; deployment, api-version, system and key received', async () => {
    server.script('azure', { kind: 'text', text: 'result = 42', inputTokens: 20, outputTokens: 5 });
    const r = await callAzure();
    assert.equal(r.choices[0]?.message.content, 'result = 42');
    assert.equal(r.choices[0]?.finish_reason, 'stop');
    assert.equal(r.model, 'gpt-4o-dep');
    assert.deepEqual(r.usage, { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
    const req = only('azure');
    // The body's model is '' here, so the deployment name is recorded as the model.
    assertReceived(req, 'gpt-4o-dep', { header: 'api-key', value: 'azure-test' });
    assert.equal(req.path, '/openai/deployments/gpt-4o-dep/chat/completions');
    assert.deepEqual(req.query, { 'api-version': '2024-10-21' });
    assert.equal(req.headers['authorization'], undefined);
  });

  test('error: SDK error class, status, code and message from the body', async () => {
    server.script('azure', {
      kind: 'error',
      status: 404,
      message: 'The API deployment for this resource does not exist.',
    });
    const e = await callAzure().catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.NotFoundError, String(e));
    assert.equal(e.status, 404);
    assert.equal(e.code, 'DeploymentNotFound');
    assert.equal(e.message, '404 The API deployment for this resource does not exist.');
  });

  test('429 carries retry-after on the error headers', async () => {
    server.script('azure', {
      kind: 'error',
      status: 429,
      message: 'Requests have exceeded token rate limit. Please retry after 6 seconds.',
      retryAfter: 6,
    });
    const e = await callAzure().catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.RateLimitError);
    assert.equal(e.headers?.get('retry-after'), '6');
    assert.equal(e.code, '429');
    assert.match(e.message, /retry after 6 seconds/);
  });

  test('malformed body: the SDK throws', async () => {
    server.script('azure', { kind: 'malformed' });
    await assert.rejects(callAzure(), SyntaxError);
  });

  test("empty reply: content ''", async () => {
    server.script('azure', { kind: 'empty' });
    const r = await callAzure();
    assert.equal(r.choices[0]?.message.content, '');
  });

  test('hang, aborted with an AbortSignal', async () => {
    const e = await hangThenAbort('azure', (signal) => callAzure(signal));
    assert.ok(e instanceof OpenAI.APIUserAbortError, String(e));
  });
});

describe('Gemini generateContent (gemini)', () => {
  test('success: text, usage and finish reason parsed; model, system instruction and key received', async () => {
    server.script(
      'gemini',
      { kind: 'text', text: 'result = 42' },
      {
        kind: 'text',
        text: 'cut',
        inputTokens: 11,
        outputTokens: 256,
        finish: 'length',
        model: 'gemini-2.5-flash-001',
      },
    );
    const r = await callGemini();
    assert.equal(r.text, 'result = 42');
    assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(r.modelVersion, 'gemini-2.5-flash');
    assert.equal(r.usageMetadata?.promptTokenCount, DEFAULT_INPUT);
    assert.equal(r.usageMetadata?.candidatesTokenCount, 3);
    assert.equal(r.usageMetadata?.totalTokenCount, DEFAULT_INPUT + 3);
    const req = only('gemini');
    assertReceived(req, 'gemini-2.5-flash', { header: 'x-goog-api-key', value: 'gemini-test' });
    assert.equal(req.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.deepEqual((req.body as { generationConfig: unknown }).generationConfig, {
      temperature: 0.2,
      maxOutputTokens: 256,
    });

    const r2 = await callGemini();
    assert.equal(r2.candidates?.[0]?.finishReason, 'MAX_TOKENS');
    assert.equal(r2.modelVersion, 'gemini-2.5-flash-001');
    assert.equal(r2.usageMetadata?.totalTokenCount, 267);
  });

  test('error: ApiError with status, and the body (message, status) in its message', async () => {
    server.script('gemini', { kind: 'error', status: 400, message: 'API key not valid. Please pass a valid API key.' });
    const e = await callGemini().catch((x: unknown) => x);
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.status, 400);
    const body = JSON.parse(e.message) as { error: { code: number; message: string; status: string } };
    assert.deepEqual(body.error, {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
    });
  });

  test('429: RetryInfo retryDelay in the error body (ApiError exposes no headers); retry-after on the wire', async () => {
    server.script('gemini', {
      kind: 'error',
      status: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      retryDelay: '1.5s',
      retryAfter: 2,
    });
    const e = await callGemini().catch((x: unknown) => x);
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 429);
    const body = JSON.parse(e.message) as { error: { status: string; details: Array<Record<string, string>> } };
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.deepEqual(body.error.details, [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }]);

    server.script('gemini', { kind: 'error', status: 429, retryAfter: 2 });
    const res = await fetch(`${server.geminiBaseUrl}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '2');
    await res.arrayBuffer();
  });

  test('malformed body: the SDK throws', async () => {
    server.script('gemini', { kind: 'malformed' });
    await assert.rejects(callGemini(), SyntaxError);
  });

  test('empty reply: a candidate with no parts, text undefined', async () => {
    server.script('gemini', { kind: 'empty' });
    const r = await callGemini();
    assert.equal(r.text, undefined);
    assert.equal(r.candidates?.[0]?.content?.parts, undefined);
    assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
  });

  test('hang, aborted with an AbortSignal', async () => {
    const e = await hangThenAbort('gemini', (signal) => callGemini(signal));
    assert.ok(isAbortError(e), String(e));
  });
});

describe('scripting', () => {
  test('with nothing scripted, a loud 500 in the provider error shape', async () => {
    const a = await callAnthropic().catch((x: unknown) => x);
    assert.ok(a instanceof Anthropic.InternalServerError);
    assert.equal(a.apiMessage, 'llm-server: no scripted reply for claude');
    const o = await callOpenAI().catch((x: unknown) => x);
    assert.ok(o instanceof OpenAI.InternalServerError);
    assert.equal(o.message, '500 llm-server: no scripted reply for vllm');
    const z = await callAzure().catch((x: unknown) => x);
    assert.ok(z instanceof OpenAI.InternalServerError);
    assert.equal(z.message, '500 llm-server: no scripted reply for azure');
    const g = await callGemini().catch((x: unknown) => x);
    assert.ok(g instanceof ApiError);
    assert.match(g.message, /llm-server: no scripted reply for gemini/);
    assert.equal(server.requests().length, 4, 'unanswered requests are still recorded');
  });

  test('queues are FIFO per provider; the handler answers once the queue is empty; reset clears both', async () => {
    server.script('vllm', { kind: 'text', text: 'one' }, { kind: 'text', text: 'two' });
    server.script('claude', { kind: 'text', text: 'claude' });
    server.respond('vllm', (req) => ({ kind: 'text', text: `echo: ${req.messages.at(-1)?.content ?? ''}` }));
    const texts: Array<string | null | undefined> = [];
    for (let i = 0; i < 3; i++) texts.push((await callOpenAI()).choices[0]?.message.content);
    assert.deepEqual(texts, ['one', 'two', `echo: ${PROMPT}`]);
    assert.equal(server.pending('claude'), 1);
    assert.equal(server.requests('vllm').length, 3);
    assert.equal(server.requests().length, 3);
    server.reset();
    assert.equal(server.pending('claude'), 0);
    assert.deepEqual(server.requests(), []);
    await assert.rejects(callOpenAI(), OpenAI.InternalServerError);
  });

  test('delayMs delays the answer; destroy drops the connection', async () => {
    server.script('claude', { kind: 'text', text: 'late', delayMs: 300 }, { kind: 'destroy' });
    const t0 = Date.now();
    await callAnthropic();
    assert.ok(Date.now() - t0 >= 280, `answered after ${Date.now() - t0} ms`);
    await assert.rejects(callAnthropic(), Anthropic.APIConnectionError);
  });

  test('a throwing handler becomes a 500 naming the failure', async () => {
    server.respond('vllm', () => {
      throw new Error('boom');
    });
    const e = await callOpenAI().catch((x: unknown) => x);
    assert.ok(e instanceof OpenAI.InternalServerError);
    assert.match(e.message, /reply handler for vllm failed: boom/);
  });

  test('the checks the real services do first: missing key, missing fields, streaming', async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    server.script('claude', { kind: 'text', text: 'not consumed' });
    const noKey = await post(
      '/v1/messages',
      { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    assert.equal(noKey.status, 401);
    assert.deepEqual(((await noKey.json()) as { error: unknown }).error, {
      type: 'authentication_error',
      message: 'x-api-key header is required',
    });
    const noMax = await post(
      '/v1/messages',
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    );
    assert.equal(noMax.status, 400);
    assert.match(await noMax.text(), /max_tokens/);
    const sysRole = await post(
      '/v1/messages',
      { model: 'm', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] },
      { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    );
    assert.equal(sysRole.status, 400);
    await sysRole.arrayBuffer();
    assert.equal(server.pending('claude'), 1, 'rejected requests do not consume the script');
    assert.equal(server.requests('claude').length, 3, 'rejected requests are recorded');

    const stream = await post('/v1/chat/completions', {
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(stream.status, 400);
    assert.match(await stream.text(), /streaming is not supported/);
    const noVersion = await post(
      '/openai/deployments/d/chat/completions',
      { messages: [{ role: 'user', content: 'x' }] },
      { 'api-key': 'k' },
    );
    assert.equal(noVersion.status, 404);
    await noVersion.arrayBuffer();
    const geminiNoKey = await post('/v1beta/models/g:generateContent', { contents: [{ parts: [{ text: 'x' }] }] });
    assert.equal(geminiNoKey.status, 403);
    assert.equal(((await geminiNoKey.json()) as { error: { status: string } }).error.status, 'PERMISSION_DENIED');
    const badJson = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{not json' });
    assert.equal(badJson.status, 400);
    await badJson.arrayBuffer();
    const unknown = await post('/v2/whatever', {});
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /no route for POST \/v2\/whatever/);
  });

  test('script() rejects unknown providers and replies', () => {
    assert.throws(() => server.script('openai' as 'vllm', { kind: 'text', text: 'x' }), /unknown provider/);
    assert.throws(() => server.script('claude', { kind: 'nope' } as unknown as ScriptedReply), /kind one of/);
    assert.throws(() => server.script('claude', { kind: 'error', status: 200 }), /status/);
  });
});

describe('control API', () => {
  test('script, requests (all and filtered), reset over HTTP', async () => {
    const control = (path: string, body?: unknown) =>
      fetch(
        `${server.url}/__control/${path}`,
        body === undefined
          ? {}
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      );

    const scripted = await control('script', {
      provider: 'gemini',
      replies: [
        { kind: 'text', text: 'from control' },
        { kind: 'error', status: 503, message: 'busy' },
      ],
    });
    assert.equal(scripted.status, 200);
    assert.deepEqual(await scripted.json(), { ok: true, pending: 2 });
    assert.equal((await callGemini()).text, 'from control');
    const busy = await callGemini().catch((x: unknown) => x);
    assert.ok(busy instanceof ApiError && busy.status === 503 && /UNAVAILABLE/.test(busy.message));
    server.script('claude', { kind: 'text', text: 'x' });
    await callAnthropic();

    const all = (await (await control('requests')).json()) as ReceivedRequest[];
    assert.deepEqual(
      all.map((r) => r.provider),
      ['gemini', 'gemini', 'claude'],
    );
    const gem = (await (await control('requests?provider=gemini')).json()) as ReceivedRequest[];
    assert.equal(gem.length, 2);
    assert.equal(gem[0]?.system, SYSTEM);
    assert.equal(gem[0]?.model, 'gemini-2.5-flash');

    const bad = await control('script', { provider: 'gpt', replies: [] });
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();
    const badReply = await control('script', { provider: 'claude', replies: [{ kind: 'text' }] });
    assert.equal(badReply.status, 400);
    assert.match(((await badReply.json()) as { error: string }).error, /text must be a string/);
    const badFilter = await control('requests?provider=gpt');
    assert.equal(badFilter.status, 400);
    await badFilter.arrayBuffer();

    const reset = await control('reset', {});
    assert.deepEqual(await reset.json(), { ok: true });
    assert.deepEqual(await (await control('requests')).json(), []);
    assert.equal(server.pending('claude'), 0);
  });
});

describe('lifecycle', () => {
  test('close() destroys hung and idle connections and resolves promptly', async () => {
    const own = await LlmServer.start();
    own.script('vllm', { kind: 'text', text: 'warm' }, { kind: 'hang' }, { kind: 'hang' });
    const client = new OpenAI({ baseURL: own.openaiBaseUrl, apiKey: 'k', maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    await ask(); // leaves an idle keep-alive connection
    const hung = [ask(), ask()];
    hung.forEach((p) => p.catch(() => {}));
    await waitFor(() => own.hanging() === 2, 'both requests hang');
    const t0 = Date.now();
    await own.close();
    assert.ok(Date.now() - t0 < 1000, 'close is prompt');
    for (const p of hung) await assert.rejects(p, OpenAI.APIConnectionError);
    await own.close(); // idempotent
  });

  test('reset() releases hung requests', async () => {
    server.script('claude', { kind: 'hang' });
    const p = callAnthropic();
    p.catch(() => {});
    await waitFor(() => server.hanging() === 1, 'the request hangs');
    server.reset();
    await assert.rejects(p, Anthropic.APIConnectionError);
    assert.equal(server.hanging(), 0);
  });

  test('main.ts: prints LLM_SERVER_URL, serves the control API, exits 0 on SIGTERM', async () => {
    const entry = fileURLToPath(new URL('./llm-server/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', entry, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line', { signal: AbortSignal.timeout(10_000) })) as [string];
      const m = /^LLM_SERVER_URL=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      assert.ok(m?.[1], `unexpected first line: ${line}`);
      const url = m[1];
      const scripted = await fetch(`${url}/__control/script`, {
        method: 'POST',
        body: JSON.stringify({ provider: 'vllm', replies: [{ kind: 'text', text: 'from child' }] }),
      });
      assert.equal(scripted.status, 200);
      await scripted.arrayBuffer();
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'k', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
      assert.equal(r.choices[0]?.message.content, 'from child');
      const reqs = (await (await fetch(`${url}/__control/requests?provider=vllm`)).json()) as ReceivedRequest[];
      assert.equal(reqs.length, 1);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
