/**
 * What the HTTP service answers: JSON bodies, and errors as `{ error, message, hint?, ... }` with the status that
 * fits. Every body passes through the secret filter on its way out, so no key of the settings (a provider's API key,
 * the NATS password, SERVE_TOKEN) can reach a client, even one quoted in an error of a provider or an agent.
 */
import { redactSecrets } from '../llm/redact.js';

/** A request the service refuses: its status, a code for programs, a message for people, and more fields. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response, its text cleaned of the secrets. */
export function jsonResponse(
  status: number,
  body: unknown,
  secrets: readonly string[],
  headers: Record<string, string> = {},
): Response {
  const text = redactSecrets(JSON.stringify(body), secrets);
  return new Response(text, {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
  });
}

/** The response for a problem. A 401 says which scheme to use; a 405 which methods the path takes. */
export function problemResponse(problem: HttpProblem, secrets: readonly string[]): Response {
  const headers: Record<string, string> = {};
  if (problem.status === 401) headers['www-authenticate'] = 'Bearer';
  if (problem.status === 405 && typeof problem.extra.allow === 'string') headers.allow = problem.extra.allow;
  return jsonResponse(
    problem.status,
    { error: problem.code, message: problem.message, ...problem.extra },
    secrets,
    headers,
  );
}
