// Azure OpenAI: POST /openai/deployments/{deployment}/chat/completions?api-version=... (non-streaming).
// Same bodies as OpenAI Chat Completions; errors are { error: { code, message } }.
import { jsonResponse, pad, retryHeaders } from './common.js';
import { chatCompletion, chatMalformed, chatShapeProblem, emptyCompletion, parseChatRequest } from './openai.js';
import type { ErrorReply, ProtocolModule, ReplyContext, WireResponse } from './types.js';

const ROUTE = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

const ERROR_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: '401',
  403: '403',
  404: 'DeploymentNotFound',
  408: 'Timeout',
  429: '429',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

function azureError(status: number, message: string, headers: Record<string, string> = {}): WireResponse {
  return jsonResponse(status, { error: { code: ERROR_CODES[status] ?? String(status), message } }, headers);
}

function requestHeaders(ctx: ReplyContext): Record<string, string> {
  const id = `00000000-0000-4000-8000-${pad(ctx.seq).padStart(12, '0')}`;
  return { 'apim-request-id': id, 'x-request-id': id };
}

function deploymentOf(path: string): string | null {
  const m = ROUTE.exec(path);
  return m?.[1] !== undefined ? decodeURIComponent(m[1]) : null;
}

/** The model named in replies: Azure ignores the body's model and answers with the deployment's model, here its name. */
function replyModel(ctx: ReplyContext): string {
  return deploymentOf(ctx.req.path) ?? ctx.req.model ?? 'gpt-4o';
}

export const azure: ProtocolModule = {
  provider: 'azure',

  match(method, pathname) {
    const m = method === 'POST' ? ROUTE.exec(pathname) : null;
    return m?.[1] !== undefined ? { deployment: decodeURIComponent(m[1]) } : null;
  },

  parse(body, params) {
    const parsed = parseChatRequest(body);
    return { ...parsed, model: parsed.model || params.deployment || null };
  },

  check(req) {
    if (!req.headers['api-key'] && !req.headers['authorization']) {
      return azureError(
        401,
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    }
    if (!req.query['api-version']) return azureError(404, 'Resource not found');
    const problem = chatShapeProblem(req.body);
    return problem === null ? null : azureError(400, problem);
  },

  success(reply, ctx) {
    const body = chatCompletion(reply, reply.model ?? replyModel(ctx), ctx);
    body.prompt_filter_results = [{ prompt_index: 0, content_filter_results: {} }];
    return jsonResponse(200, body, requestHeaders(ctx));
  },

  empty(ctx) {
    return jsonResponse(200, emptyCompletion(replyModel(ctx), ctx), requestHeaders(ctx));
  },

  error(status, message, reply: ErrorReply | null, ctx) {
    return azureError(status, message, { ...requestHeaders(ctx), ...retryHeaders(reply) });
  },

  malformed(ctx) {
    return chatMalformed(ctx);
  },
};
