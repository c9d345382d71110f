// Types shared by the local LLM server (../server.ts) and its protocol modules.

export type ProviderName = 'claude' | 'vllm' | 'azure' | 'gemini';

export const PROVIDERS: readonly ProviderName[] = ['claude', 'vllm', 'azure', 'gemini'];

export type TextReply = {
  kind: 'text';
  text: string;
  inputTokens?: number;
  outputTokens?: number;
  finish?: 'stop' | 'length';
  /** Model name put in the reply; defaults to the requested model (Azure: the deployment when the body has none). */
  model?: string;
  delayMs?: number;
};

export type ErrorReply = {
  kind: 'error';
  status: number;
  message?: string;
  /** Retry-After header value, seconds. */
  retryAfter?: number | string;
  /** Gemini RetryInfo retryDelay, e.g. '1.5s'. */
  retryDelay?: string;
  delayMs?: number;
};

export type ScriptedReply =
  | TextReply
  | ErrorReply
  /** Accept, never answer (released when the client aborts, on reset(), or when the server closes). */
  | { kind: 'hang' }
  /** 200 with a body that is not valid JSON. */
  | { kind: 'malformed' }
  /** 200, well-formed, but the reply text is empty. */
  | { kind: 'empty' }
  /** Destroy the socket without answering. */
  | { kind: 'destroy' };

export const REPLY_KINDS: readonly ScriptedReply['kind'][] = ['text', 'error', 'hang', 'malformed', 'empty', 'destroy'];

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ReceivedRequest {
  provider: ProviderName;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  model: string | null;
  system: string | null;
  /** Conversation turns without the system prompt; roles normalised to 'user' | 'assistant' (others kept as sent). */
  messages: ChatMessage[];
  /** Date.now() when the request arrived. */
  at: number;
}

/** What a protocol module extracts from a request body. */
export interface ParsedRequest {
  model: string | null;
  system: string | null;
  messages: ChatMessage[];
}

/** A complete HTTP answer. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Per-answer context handed to the body builders. */
export interface ReplyContext {
  /** Increments per answer on one server; used for deterministic ids. */
  seq: number;
  req: ReceivedRequest;
}

export interface ProtocolModule {
  readonly provider: ProviderName;
  /** Route parameters when this protocol serves `method pathname`, else null. */
  match(method: string, pathname: string): Record<string, string> | null;
  /** Extract model, system prompt and turns; never throws, whatever the body. */
  parse(body: unknown, params: Record<string, string>): ParsedRequest;
  /** Auth and shape checks the real service does first; an answer here is sent without consuming a scripted reply. */
  check(req: ReceivedRequest, ctx: ReplyContext): WireResponse | null;
  success(reply: TextReply, ctx: ReplyContext): WireResponse;
  empty(ctx: ReplyContext): WireResponse;
  error(status: number, message: string, reply: ErrorReply | null, ctx: ReplyContext): WireResponse;
  malformed(ctx: ReplyContext): WireResponse;
}
