// A local LLM server for tests: a real HTTP server on 127.0.0.1 that speaks the wire protocols of Anthropic Messages,
// OpenAI Chat Completions (vLLM), Azure OpenAI and Gemini generateContent, answers from per-provider scripts
// (text, errors, hangs, broken bodies, dropped sockets) and records every request it received.
//
//   const server = await LlmServer.start();
//   server.script('claude', { kind: 'text', text: 'hello' }, { kind: 'error', status: 529 });
//   new Anthropic({ baseURL: server.anthropicBaseUrl, apiKey: 'k', maxRetries: 0 });
//   ...
//   server.requests('claude')[0].system;
//   await server.close();
//
// For subprocesses, main.ts runs one standalone and the control API drives it over HTTP:
//   POST /__control/script { provider, replies }   POST /__control/reset   GET /__control/requests?provider=x
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropic } from './protocols/anthropic.js';
import { azure } from './protocols/azure.js';
import { isRecord } from './protocols/common.js';
import { gemini } from './protocols/gemini.js';
import { openai } from './protocols/openai.js';
import {
  PROVIDERS,
  type ProtocolModule,
  type ProviderName,
  REPLY_KINDS,
  type ReceivedRequest,
  type ReplyContext,
  type ScriptedReply,
  type WireResponse,
} from './protocols/types.js';

export type {
  ChatMessage,
  ErrorReply,
  ProviderName,
  ReceivedRequest,
  ScriptedReply,
  TextReply,
} from './protocols/types.js';
export { PROVIDERS } from './protocols/types.js';

export type ReplyHandler = (req: ReceivedRequest) => ScriptedReply | Promise<ScriptedReply>;

const PROTOCOLS: readonly ProtocolModule[] = [anthropic, openai, azure, gemini];

/** Largest request body accepted (bytes); larger ones get 413. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value);
}

/** Throws a descriptive error when `value` is not a ScriptedReply. */
export function assertScriptedReply(value: unknown, where = 'reply'): asserts value is ScriptedReply {
  if (!isRecord(value) || typeof value.kind !== 'string' || !(REPLY_KINDS as readonly string[]).includes(value.kind)) {
    throw new TypeError(`llm-server: ${where} must be an object with kind one of ${REPLY_KINDS.join(', ')}`);
  }
  if (value.kind === 'text' && typeof value.text !== 'string')
    throw new TypeError(`llm-server: ${where}.text must be a string`);
  if (value.kind === 'error') {
    const s = value.status;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 400 || s > 599) {
      throw new TypeError(`llm-server: ${where}.status must be an integer HTTP error status (400-599)`);
    }
  }
}

export class LlmServer {
  readonly url: string;
  /** baseURL for the Anthropic SDK (it appends /v1/messages). */
  readonly anthropicBaseUrl: string;
  /** baseURL for the OpenAI SDK talking to vLLM (it appends /chat/completions). */
  readonly openaiBaseUrl: string;
  /** endpoint for AzureOpenAI (it appends /openai/deployments/{deployment}/chat/completions?api-version=...). */
  readonly azureEndpoint: string;
  /** httpOptions.baseUrl for GoogleGenAI (it appends /v1beta/models/{model}:generateContent). */
  readonly geminiBaseUrl: string;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<Socket>();
  private readonly queues = new Map<ProviderName, ScriptedReply[]>();
  private readonly handlers = new Map<ProviderName, ReplyHandler>();
  private recorded: ReceivedRequest[] = [];
  private seq = 0;
  private closing: Promise<void> | null = null;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.url = `http://127.0.0.1:${port}`;
    this.anthropicBaseUrl = this.url;
    this.openaiBaseUrl = `${this.url}/v1`;
    this.azureEndpoint = this.url;
    this.geminiBaseUrl = this.url;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.hung.delete(socket);
      });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          send(res, plainJson(500, { error: { message: `llm-server: ${String(err)}` } }));
        } else {
          res.destroy();
        }
      });
    });
  }

  static start(options: { port?: number } = {}): Promise<LlmServer> {
    const server = createServer();
    // Requests may legitimately hang for as long as a test wants.
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        const { port } = server.address() as AddressInfo;
        resolve(new LlmServer(server, port));
      });
    });
  }

  /** Append replies to the provider's FIFO queue. */
  script(provider: ProviderName, ...replies: ScriptedReply[]): void {
    if (!isProviderName(provider)) throw new TypeError(`llm-server: unknown provider ${JSON.stringify(provider)}`);
    replies.forEach((r, i) => assertScriptedReply(r, `replies[${i}]`));
    const queue = this.queues.get(provider) ?? [];
    queue.push(...replies);
    this.queues.set(provider, queue);
  }

  /** Handler used when the provider's queue is empty; null removes it. May return a promise. */
  respond(provider: ProviderName, handler: ReplyHandler | null): void {
    if (!isProviderName(provider)) throw new TypeError(`llm-server: unknown provider ${JSON.stringify(provider)}`);
    if (handler === null) this.handlers.delete(provider);
    else this.handlers.set(provider, handler);
  }

  /** Scripted replies not yet used. */
  pending(provider: ProviderName): number {
    return this.queues.get(provider)?.length ?? 0;
  }

  /** Requests currently held open by a `hang` reply (drops when the client aborts, on reset() and on close()). */
  hanging(): number {
    return this.hung.size;
  }

  /** Requests received, oldest first (all providers, or one). */
  requests(provider?: ProviderName): ReceivedRequest[] {
    return provider === undefined ? [...this.recorded] : this.recorded.filter((r) => r.provider === provider);
  }

  /** Clear queues, handlers and recorded requests; drop the connections of hung requests. */
  reset(): void {
    this.queues.clear();
    this.handlers.clear();
    this.recorded = [];
    for (const socket of this.hung) socket.destroy();
    this.hung.clear();
  }

  /** Stop listening and destroy every connection, hung ones included. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
      this.hung.clear();
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        send(
          res,
          plainJson(413, { error: { message: 'llm-server: request body too large' } }, { connection: 'close' }),
        );
      }
      return;
    }

    if (url.pathname.startsWith('/__control/')) return this.control(method, url, raw, res);

    let protocol: ProtocolModule | null = null;
    let params: Record<string, string> = {};
    for (const p of PROTOCOLS) {
      const m = p.match(method, url.pathname);
      if (m) {
        protocol = p;
        params = m;
        break;
      }
    }
    if (!protocol) {
      return send(res, plainJson(404, { error: { message: `llm-server: no route for ${method} ${url.pathname}` } }));
    }

    let body: unknown = raw;
    let jsonOk = true;
    try {
      body = raw === '' ? null : JSON.parse(raw);
    } catch {
      jsonOk = false;
    }
    const parsed = protocol.parse(body, params);
    const record: ReceivedRequest = {
      provider: protocol.provider,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flattenHeaders(req),
      body,
      model: parsed.model,
      system: parsed.system,
      messages: parsed.messages,
      at: Date.now(),
    };
    this.recorded.push(record);
    const ctx: ReplyContext = { seq: ++this.seq, req: record };

    const rejection = jsonOk
      ? protocol.check(record, ctx)
      : protocol.error(400, 'llm-server: request body is not valid JSON', null, ctx);
    if (rejection) return send(res, rejection);

    let reply: ScriptedReply | null;
    try {
      reply = await this.nextReply(protocol.provider, record);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return send(
        res,
        protocol.error(500, `llm-server: reply handler for ${protocol.provider} failed: ${message}`, null, ctx),
      );
    }
    if (!reply) {
      return send(res, protocol.error(500, `llm-server: no scripted reply for ${protocol.provider}`, null, ctx));
    }
    await this.play(reply, protocol, ctx, req, res);
  }

  private async nextReply(provider: ProviderName, req: ReceivedRequest): Promise<ScriptedReply | null> {
    const queued = this.queues.get(provider)?.shift();
    if (queued) return queued;
    const handler = this.handlers.get(provider);
    if (!handler) return null;
    const reply = await handler(req);
    assertScriptedReply(reply, 'handler result');
    return reply;
  }

  private async play(
    reply: ScriptedReply,
    protocol: ProtocolModule,
    ctx: ReplyContext,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const socket = req.socket;
    if ((reply.kind === 'text' || reply.kind === 'error') && reply.delayMs !== undefined && reply.delayMs > 0) {
      const alive = await sleepWhileOpen(reply.delayMs, socket);
      if (!alive) return;
    }
    if (socket.destroyed) return;
    switch (reply.kind) {
      case 'text':
        return send(res, protocol.success(reply, ctx));
      case 'error':
        return send(
          res,
          protocol.error(reply.status, reply.message ?? `llm-server: scripted ${reply.status} error`, reply, ctx),
        );
      case 'empty':
        return send(res, protocol.empty(ctx));
      case 'malformed':
        return send(res, protocol.malformed(ctx));
      case 'destroy':
        socket.destroy();
        return;
      case 'hang':
        this.hung.add(socket);
        return;
    }
  }

  private control(method: string, url: URL, raw: string, res: ServerResponse): void {
    const reply = (status: number, body: unknown) => send(res, plainJson(status, body));
    try {
      const route = `${method} ${url.pathname}`;
      if (route === 'GET /__control/requests') {
        const provider = url.searchParams.get('provider');
        if (provider !== null && !isProviderName(provider))
          return reply(400, { error: `unknown provider ${JSON.stringify(provider)}` });
        return reply(200, this.requests(provider ?? undefined));
      }
      if (route === 'POST /__control/reset') {
        this.reset();
        return reply(200, { ok: true });
      }
      if (route === 'POST /__control/script') {
        const body: unknown = JSON.parse(raw);
        if (!isRecord(body) || !isProviderName(body.provider) || !Array.isArray(body.replies)) {
          return reply(400, { error: `body must be { provider: ${PROVIDERS.join(' | ')}, replies: ScriptedReply[] }` });
        }
        this.script(body.provider, ...(body.replies as ScriptedReply[])); // checked one by one in script()
        return reply(200, { ok: true, pending: this.pending(body.provider) });
      }
      if (route === 'GET /__control/health') return reply(200, { ok: true });
      return reply(404, { error: `no control route ${route}` });
    } catch (err) {
      return reply(400, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => reject(new Error('request closed before its body ended')));
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function plainJson(status: number, body: unknown, headers: Record<string, string> = {}): WireResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function send(res: ServerResponse, r: WireResponse): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
  res.end(r.body);
}

/** Wait `ms`; resolves false early when the socket closes (client gone or server closing). */
function sleepWhileOpen(ms: number, socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(false);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      socket.off('close', onClose);
      resolve(true);
    }, ms);
    socket.once('close', onClose);
  });
}
