// Anthropic Messages API: POST /v1/messages (non-streaming).
import {
  defaultInputTokens,
  isRecord,
  jsonResponse,
  pad,
  retryHeaders,
  str,
  textOf,
  tokenCounts,
  truncatedJson,
} from './common.js';
import type { ChatMessage, ErrorReply, ParsedRequest, ProtocolModule, ReplyContext, WireResponse } from './types.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function requestId(ctx: ReplyContext): string {
  return `req_llmserver${pad(ctx.seq)}`;
}

function errorBody(
  status: number,
  message: string,
  ctx: ReplyContext,
  extra: Record<string, string> = {},
): WireResponse {
  const id = requestId(ctx);
  return jsonResponse(
    status,
    { type: 'error', error: { type: anthropicErrorType(status), message }, request_id: id },
    { 'request-id': id, ...extra },
  );
}

export const anthropic: ProtocolModule = {
  provider: 'claude',

  match(method, pathname) {
    return method === 'POST' && pathname === '/v1/messages' ? {} : null;
  },

  parse(body): ParsedRequest {
    if (!isRecord(body)) return { model: null, system: null, messages: [] };
    const system = body.system === undefined || body.system === null ? null : textOf(body.system);
    const messages: ChatMessage[] = Array.isArray(body.messages)
      ? body.messages.map((m) => ({
          role: isRecord(m) ? (str(m.role) ?? '') : '',
          content: isRecord(m) ? textOf(m.content) : '',
        }))
      : [];
    return { model: str(body.model), system, messages };
  },

  check(req, ctx) {
    const bad = (message: string) => errorBody(400, message, ctx);
    if (!req.headers['x-api-key'] && !req.headers['authorization']) {
      return errorBody(401, 'x-api-key header is required', ctx);
    }
    if (!req.headers['anthropic-version']) return bad('anthropic-version: header is required');
    const body = req.body;
    if (!isRecord(body)) return bad('llm-server: request body must be a JSON object');
    if (body.stream === true) return bad('llm-server: streaming is not supported by the test server');
    if (typeof body.model !== 'string' || body.model === '') return bad('model: Field required');
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return bad('max_tokens: Field required');
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return bad('messages: at least one message is required');
    }
    for (const [i, m] of body.messages.entries()) {
      const role: unknown = isRecord(m) ? m.role : undefined;
      if (role !== 'user' && role !== 'assistant') {
        return bad(`messages.${i}.role: Input should be 'user' or 'assistant'`);
      }
    }
    return null;
  },

  success(reply, ctx) {
    const { input, output } = tokenCounts(reply, ctx.req);
    return jsonResponse(
      200,
      {
        id: `msg_llmserver${pad(ctx.seq)}`,
        type: 'message',
        role: 'assistant',
        model: reply.model ?? ctx.req.model ?? 'claude',
        content: [{ type: 'text', text: reply.text }],
        stop_reason: reply.finish === 'length' ? 'max_tokens' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: output },
      },
      { 'request-id': requestId(ctx) },
    );
  },

  empty(ctx) {
    return jsonResponse(
      200,
      {
        id: `msg_llmserver${pad(ctx.seq)}`,
        type: 'message',
        role: 'assistant',
        model: ctx.req.model ?? 'claude',
        content: [],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: defaultInputTokens(ctx.req), output_tokens: 0 },
      },
      { 'request-id': requestId(ctx) },
    );
  },

  error(status, message, reply: ErrorReply | null, ctx) {
    return errorBody(status, message, ctx, retryHeaders(reply));
  },

  malformed(ctx) {
    const r = truncatedJson({ id: `msg_llmserver${pad(ctx.seq)}`, type: 'message', role: 'assistant', content: [] });
    r.headers['request-id'] = requestId(ctx);
    return r;
  },
};
