/**
 * Who may use the HTTP service. It runs model-written code on request, so it listens on loopback unless an access
 * token (SERVE_TOKEN) guards it; with a token, every request must carry it as `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Whether the token sent is the expected one. Both are hashed to SHA-256 first, so the comparison is of two
 * equal-length digests, in constant time: neither the token's length nor how much of it matched leaks by timing.
 */
export function tokenMatches(sent: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(sent), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header; null when there is none or it is of another scheme. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Whether an address or host name stays on this machine: localhost, 127.0.0.0/8, ::1 (IPv4-mapped too). */
export function isLoopback(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name === '::1') return true;
  if (name.startsWith('::ffff:')) return isLoopback(name.slice('::ffff:'.length));
  return isIP(name) === 4 && name.startsWith('127.');
}

/** Why listening on `host` is refused (a non-loopback address without a token); null when it is allowed. */
export function exposureProblem(host: string, token: string | undefined): string | null {
  if (isLoopback(host) || token) return null;
  return (
    `Refusing to listen on ${host} without SERVE_TOKEN: the service runs model-written code on request, and ${host} `
    + 'lets other machines in. Set SERVE_TOKEN to a long random secret (e.g. `SERVE_TOKEN=$(openssl rand -hex 32)` in '
    + 'the environment or .env) and send it as `Authorization: Bearer <token>`, or listen on 127.0.0.1.'
  );
}

/** Refusals of a request, as HTTP status, code and message; null when the request may go on. */
export function authProblem(
  authorization: string | null,
  token: string | undefined,
  localAddress: string | undefined,
): { status: 401 | 403; code: string; message: string } | null {
  if (token) {
    const sent = bearerToken(authorization);
    if (sent !== null && tokenMatches(sent, token)) return null;
    return {
      status: 401,
      code: 'unauthorized',
      message:
        sent === null
          ? 'This service needs its access token: send `Authorization: Bearer <SERVE_TOKEN>`.'
          : "The bearer token is not this service's SERVE_TOKEN.",
    };
  }
  // An adapter mounted in a server that listens beyond loopback, with no token: refuse rather than run code for anyone.
  if (localAddress !== undefined && !isLoopback(localAddress)) {
    return {
      status: 403,
      code: 'token_required',
      message:
        `This request came in on ${localAddress}, which is not loopback, and the service has no SERVE_TOKEN: it runs `
        + 'model-written code, so it answers other machines only with a token. Set SERVE_TOKEN (or the token option) '
        + 'and send it as `Authorization: Bearer <token>`.',
    };
  }
  return null;
}
