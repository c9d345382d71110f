// Gemini Developer API: POST /{v1beta|v1|v1alpha}/models/{model}:generateContent (what @google/genai 2.32 calls with
// httpOptions.baseUrl = server url; the default API version is v1beta). The key comes as header x-goog-api-key.
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

const ROUTE = /^\/(v1beta|v1|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

const STATUSES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function geminiStatus(status: number): string {
  return STATUSES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

const JSON_UTF8 = { 'content-type': 'application/json; charset=UTF-8' };

function geminiError(
  status: number,
  message: string,
  retryDelay?: string,
  headers: Record<string, string> = {},
): WireResponse {
  const error: Record<string, unknown> = { code: status, message, status: geminiStatus(status) };
  if (retryDelay !== undefined) {
    error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }];
  }
  return jsonResponse(status, { error }, { ...JSON_UTF8, ...headers });
}

function responseId(ctx: ReplyContext): string {
  return `llmserver${pad(ctx.seq)}`;
}

export const gemini: ProtocolModule = {
  provider: 'gemini',

  match(method, pathname) {
    const m = method === 'POST' ? ROUTE.exec(pathname) : null;
    if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return null;
    return { apiVersion: m[1], model: decodeURIComponent(m[2]), method: m[3] };
  },

  parse(body, params): ParsedRequest {
    const model = params.model ?? null;
    if (!isRecord(body)) return { model, system: null, messages: [] };
    const system =
      body.systemInstruction === undefined || body.systemInstruction === null ? null : textOf(body.systemInstruction);
    const messages: ChatMessage[] = Array.isArray(body.contents)
      ? body.contents.map((c) => {
          const role = isRecord(c) ? (str(c.role) ?? 'user') : '';
          return { role: role === 'model' ? 'assistant' : role, content: isRecord(c) ? textOf(c.parts) : '' };
        })
      : [];
    return { model, system, messages };
  },

  check(req) {
    if (!req.headers['x-goog-api-key'] && !req.query['key'] && !req.headers['authorization']) {
      return geminiError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (req.path.endsWith(':streamGenerateContent')) {
      return geminiError(400, 'llm-server: streaming is not supported by the test server');
    }
    const body = req.body;
    if (!isRecord(body)) return geminiError(400, 'llm-server: request body must be a JSON object');
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return geminiError(400, '* GenerateContentRequest.contents: contents is not specified');
    }
    for (const c of body.contents) {
      const role: unknown = isRecord(c) ? c.role : undefined;
      if (role !== undefined && role !== 'user' && role !== 'model') {
        return geminiError(400, 'Please use a valid role: user, model.');
      }
    }
    return null;
  },

  success(reply, ctx) {
    const { input, output } = tokenCounts(reply, ctx.req);
    return jsonResponse(
      200,
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: reply.text }] },
            finishReason: reply.finish === 'length' ? 'MAX_TOKENS' : 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output },
        modelVersion: reply.model ?? ctx.req.model ?? 'gemini',
        responseId: responseId(ctx),
      },
      JSON_UTF8,
    );
  },

  // As the real service does when a candidate produced nothing: a content with a role and no parts.
  empty(ctx) {
    const input = defaultInputTokens(ctx.req);
    return jsonResponse(
      200,
      {
        candidates: [{ content: { role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: input, totalTokenCount: input },
        modelVersion: ctx.req.model ?? 'gemini',
        responseId: responseId(ctx),
      },
      JSON_UTF8,
    );
  },

  error(status, message, reply: ErrorReply | null) {
    return geminiError(status, message, reply?.retryDelay, retryHeaders(reply));
  },

  malformed(ctx) {
    return truncatedJson({ candidates: [], responseId: responseId(ctx) });
  },
};
