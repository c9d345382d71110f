/**
 * A request's JSON body, read up to a limit: a body over it is refused with 413 as soon as its declared length (or,
 * when it has none, the bytes read so far) passes the limit, so a client cannot make the service hold a large body.
 */
import { HttpProblem } from './responses.js';

/** The default limit of a request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(limit: number, size: string): HttpProblem {
  return new HttpProblem(
    413,
    'payload_too_large',
    `The request body is ${size}, over this service's limit of ${limit} bytes: send a smaller one (large data belongs `
      + 'in a tool, a blob or the workspace, not in a task), or raise the limit (automesh serve --max-body BYTES).',
    { limitBytes: limit },
  );
}

/** 413 at once when the declared length is over the limit: nothing of the body is read. */
async function checkDeclaredLength(request: Request, limit: number): Promise<void> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(limit, `${declared} bytes`);
  }
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit, `more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The body parsed as JSON. 413 over `limit`; 415 when it is not declared JSON; 400 when it is empty or not JSON,
 * with `example` (what to send) in the answer.
 */
export async function readJsonBody(request: Request, limit: number, example: unknown): Promise<unknown> {
  await checkDeclaredLength(request, limit);
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type.trim())) {
    await request.body?.cancel().catch(() => undefined);
    throw new HttpProblem(
      415,
      'unsupported_media_type',
      `Send the body as JSON with \`Content-Type: application/json\`${type ? `; got "${type}"` : '; the request has none'}.`,
      { example },
    );
  }
  const text = new TextDecoder().decode(await readLimited(request, limit));
  if (text.trim() === '') {
    throw new HttpProblem(400, 'invalid_request', 'The request has no body: send a JSON object.', { example });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(
      400,
      'invalid_json',
      `The body is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
      { example },
    );
  }
}
