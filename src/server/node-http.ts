/**
 * Node's http server and the web's Request/Response, both ways, for the service's handler (which speaks the web's
 * types, as Hono does): `automesh serve` and the Fastify plugin go through here. A request body is streamed, not
 * buffered; a response body (a server-sent event stream too) is written as it comes, with backpressure, and is
 * cancelled when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the handler may want to know of the connection besides the request. */
export interface ConnectionInfo {
  /** The local address the request came in on (e.g. 127.0.0.1); undefined when not known. */
  localAddress?: string;
}

/**
 * The request body as a web stream that reads only as fast as it is consumed. Cancelling it discards the rest
 * (the connection stays usable for the response) instead of destroying the socket, which would lose the response.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return new Promise<void>((resolve, reject) => {
        const tryRead = (): void => {
          const chunk = req.read() as Buffer | null;
          if (chunk !== null) {
            cleanup();
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            resolve();
          } else if (req.readableEnded) {
            cleanup();
            controller.close();
            resolve();
          }
        };
        const onEnd = (): void => {
          cleanup();
          controller.close();
          resolve();
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(err);
        };
        const cleanup = (): void => {
          req.off('readable', tryRead);
          req.off('end', onEnd);
          req.off('error', onError);
        };
        req.on('readable', tryRead);
        req.on('end', onEnd);
        req.on('error', onError);
        tryRead();
      });
    },
    cancel() {
      req.resume();
    },
  });
}

/** A web Request for a Node request; its signal aborts when the client goes away before the response ended. */
export function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client closed the connection'));
  });
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method,
    headers,
    signal: gone.signal,
    ...(hasBody ? { body: bodyStream(req), duplex: 'half' } : {}),
  } as RequestInit);
}

/** Writes a web Response to a Node response, streaming its body; resolves when it is written or the client left. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = (): void => {
    reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } catch (err) {
    // The status is sent already: a body that failed midway can only be cut off, so the client sees it incomplete.
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    res.off('close', onClose);
    if (!res.destroyed) res.end();
  }
}
