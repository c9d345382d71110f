/**
 * Secrets out of everything the dashboard sends. The stores never hold keys by contract, but a provider that echoed
 * a key in an error body before redaction existed, or a hand-edited record, must not put it on a web page: every
 * string of every response is passed through the chain's own redaction (API keys, endpoint credentials, SERVE_TOKEN).
 */
import { redactSecrets } from '../llm/redact.js';

/** A deep copy of JSON data with every string redacted (object keys included). */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[redactSecrets(key, secrets)] = redactDeep(item, secrets);
    return out;
  }
  return value;
}
