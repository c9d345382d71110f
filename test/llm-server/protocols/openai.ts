// OpenAI Chat Completions as served by vLLM: POST /v1/chat/completions (non-streaming).
// The request parsing and success bodies are shared with Azure OpenAI (./azure.ts).
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
import type {
  ChatMessage,
  ErrorReply,
  ParsedRequest,
  ProtocolModule,
  ReplyContext,
  TextReply,
  WireResponse,
} from './types.js';

const SYSTEM_ROLES = new Set(['system', 'developer']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** System/developer messages become `system` (joined with '\n'); the other turns stay in `messages`. */
export function parseChatRequest(body: unknown): ParsedRequest {
  if (!isRecord(body)) return { model: null, system: null, messages: [] };
  const systems: string[] = [];
  const messages: ChatMessage[] = [];
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      const role = isRecord(m) ? (str(m.role) ?? '') : '';
      const content = isRecord(m) ? textOf(m.content) : '';
      if (SYSTEM_ROLES.has(role)) systems.push(content);
      else messages.push({ role, content });
    }
  }
  return { model: str(body.model), system: systems.length > 0 ? systems.join('\n') : null, messages };
}

/** Shape problems both vLLM and Azure reject with 400; null when the body is acceptable. */
export function chatShapeProblem(body: unknown): string | null {
  if (!isRecord(body)) return 'llm-server: request body must be a JSON object';
  if (body.stream === true) return 'llm-server: streaming is not supported by the test server';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "'messages' is a required property";
  for (const [i, m] of body.messages.entries()) {
    const role: unknown = isRecord(m) ? m.role : undefined;
    if (typeof role !== 'string' || !ROLES.has(role)) return `messages.${i}.role: invalid role ${JSON.stringify(role)}`;
  }
  return null;
}

export function chatCompletion(reply: TextReply, model: string, ctx: ReplyContext): Record<string, unknown> {
  const { input, output } = tokenCounts(reply, ctx.req);
  return {
    id: `chatcmpl-llmserver${pad(ctx.seq)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.text },
        logprobs: null,
        finish_reason: reply.finish === 'length' ? 'length' : 'stop',
      },
    ],
    usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
  };
}

export function emptyCompletion(model: string, ctx: ReplyContext): Record<string, unknown> {
  return chatCompletion(
    { kind: 'text', text: '', inputTokens: defaultInputTokens(ctx.req), outputTokens: 0 },
    model,
    ctx,
  );
}

export function chatMalformed(ctx: ReplyContext): WireResponse {
  return truncatedJson({ id: `chatcmpl-llmserver${pad(ctx.seq)}`, object: 'chat.completion', choices: [] });
}

// vLLM's ErrorResponse: { error: { message, type, param, code } } with an exception-like type and the numeric status as code.
const VLLM_ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  502: 'BadGatewayError',
  503: 'ServiceUnavailableError',
};

function vllmError(status: number, message: string, headers: Record<string, string> = {}): WireResponse {
  const type = VLLM_ERROR_TYPES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequestError');
  return jsonResponse(status, { error: { message, type, param: null, code: status } }, headers);
}

export const openai: ProtocolModule = {
  provider: 'vllm',

  match(method, pathname) {
    return method === 'POST' && pathname === '/v1/chat/completions' ? {} : null;
  },

  parse(body) {
    return parseChatRequest(body);
  },

  // vLLM servers started without --api-key accept any Authorization header, or none: no auth check here.
  check(req) {
    const problem = chatShapeProblem(req.body);
    return problem === null ? null : vllmError(400, problem);
  },

  success(reply, ctx) {
    return jsonResponse(200, chatCompletion(reply, reply.model ?? ctx.req.model ?? 'default', ctx), {
      'x-request-id': `llmserver${pad(ctx.seq)}`,
    });
  },

  empty(ctx) {
    return jsonResponse(200, emptyCompletion(ctx.req.model ?? 'default', ctx));
  },

  error(status, message, reply: ErrorReply | null) {
    return vllmError(status, message, retryHeaders(reply));
  },

  malformed(ctx) {
    return chatMalformed(ctx);
  },
};
