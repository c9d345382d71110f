/** The model's raw reply as kept in `attempts[i].reply`: whole up to a bound, so a log shows what the model said. */

/** Largest reply kept per attempt, in UTF-8 bytes (16 KiB). */
export const MAX_REPLY_BYTES = 16 * 1024;

/** The reply, cut to {@link MAX_REPLY_BYTES} (never inside a character), and whether it was cut. */
export function boundedReply(text: string): { reply: string; replyTruncated: boolean } {
  if (Buffer.byteLength(text, 'utf8') <= MAX_REPLY_BYTES) return { reply: text, replyTruncated: false };
  // Cutting the bytes may split a multi-byte character; the decoder turns its remains into U+FFFD, dropped here.
  const cut = Buffer.from(text, 'utf8')
    .subarray(0, MAX_REPLY_BYTES)
    .toString('utf8')
    .replace(/\uFFFD+$/u, '');
  return { reply: cut, replyTruncated: true };
}
