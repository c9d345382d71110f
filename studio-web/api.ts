// The studio's API from the page: JSON reads and the live stream, with the bearer token when the studio needs one.
// The token comes once in the address's fragment (#token=…, never sent to a server or written to its logs) and is
// kept for the tab's session.

const TOKEN_KEY = 'automesh-studio-token';

function takeTokenFromFragment(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1] as string));
  history.replaceState(null, '', location.pathname + location.search);
}
takeTokenFromFragment();

function headers(): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** GET `api/<path>` as JSON; throws the studio's error message on a non-2xx answer. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`./api/${path}`, { headers: headers() });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

/** One server-sent event. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

/**
 * Reads `api/<path>` as server-sent events (fetch, not EventSource, so the token travels in a header) and calls
 * `onEvent` for each, until the stream ends or `signal` aborts.
 */
export async function stream(path: string, signal: AbortSignal, onEvent: (e: StreamEvent) => void): Promise<void> {
  const res = await fetch(`./api/${path}`, { headers: headers(), signal });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `HTTP ${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data !== undefined) onEvent({ event, data: JSON.parse(data) });
      cut = buffer.indexOf('\n\n');
    }
  }
}
