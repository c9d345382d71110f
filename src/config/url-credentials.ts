/** `scheme://user:password@` (or `scheme://token@`) anywhere in a text. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** The text with the credentials of every URL in it replaced by `replacement`, so it may be shown or logged. */
export function redactUrlCredentials(text: string, replacement = '[redacted]'): string {
  return text.replace(URL_CREDENTIALS, `$1${replacement}@`);
}
