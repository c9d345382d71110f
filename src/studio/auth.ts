/**
 * Who may read the dashboard's data. On a loopback address nobody else can connect, so no token is needed; on any
 * other address a bearer token (SERVE_TOKEN) is required, compared in constant time. The page itself (HTML, script,
 * style) holds no data and is served to anyone; every `/api/` route checks the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** Refuses to expose the dashboard on a non-loopback address without a token, saying what to do. */
export function assertExposable(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || (token !== undefined && token.length > 0)) return;
  throw new StudioExposureError(
    `Refusing to serve the studio on ${host} without SERVE_TOKEN: anyone who can reach that address could read every result, workflow and piece of registered code.`,
  );
}

export class StudioExposureError extends Error {
  override readonly name = 'StudioExposureError';
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Both sides are hashed first so the comparison takes
 * the same time whatever the length or content of the guess.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1] as string), digest(token));
}
