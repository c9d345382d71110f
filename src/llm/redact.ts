/**
 * Secrets out of error texts. Some providers echo the API key in an error body ("Incorrect API key provided:
 * sk-..."), and connection errors quote the endpoint URL with its credentials (`https://user:pass@host`);
 * either would reach envelopes, result logs, workflow state and the CLI's output. Every error text the chain
 * keeps passes through here first.
 */
import { SECRET_SETTINGS, type Settings } from '../config/settings.js';
import { redactUrlCredentials } from '../config/url-credentials.js';
import { ENDPOINT_SETTINGS } from './providers/index.js';

export const REDACTED = '[redacted]';

/** Secrets at least this long are replaced wherever they appear; shorter ones only as a whole word. */
const SUBSTRING_LENGTH = 8;

/** The secret values of the settings: the API keys and the credentials of endpoint URLs. */
export function secretsOf(settings: Settings): string[] {
  const secrets = new Set<string>();
  for (const name of SECRET_SETTINGS) {
    const value = (settings as Record<string, unknown>)[name];
    if (typeof value === 'string' && value) secrets.add(value);
  }
  for (const name of ENDPOINT_SETTINGS) {
    const value = (settings as Record<string, unknown>)[name];
    if (typeof value !== 'string' || !value) continue;
    const url = new URL(value);
    for (const part of [url.username, url.password]) {
      if (!part) continue;
      secrets.add(part);
      secrets.add(decodeURIComponent(part));
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The text with every given secret, and the credentials of any URL in it, replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redactUrlCredentials(text, REDACTED);
  for (const secret of secrets) {
    out =
      secret.length >= SUBSTRING_LENGTH
        ? out.split(secret).join(REDACTED)
        : out.replace(new RegExp(`(?<![\\w-])${escapeRegExp(secret)}(?![\\w-])`, 'g'), REDACTED);
  }
  return out;
}
