/** The reply as a whole, before any block is looked at: line endings, reasoning, a reply that is one code span. */

/** CRLF and lone CR would otherwise end up inside the code and in every line-based regex. A BOM is not text. */
export function normalizeReply(reply: string): string {
  return reply.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/**
 * Reasoning models served raw (Qwen3/DeepSeek-R1 on vLLM without a reasoning parser) put their thinking,
 * drafts included, in `<think>…</think>` before the answer; some chat templates open the tag in the prompt,
 * so only the closing tag is in the reply. Returns null when the reply never left its reasoning.
 */
export function dropReasoning(text: string): string | null {
  const close = /<\/think(?:ing)?>/gi;
  let end = -1;
  for (let m = close.exec(text); m; m = close.exec(text)) end = m.index + m[0].length;
  if (end >= 0) return text.slice(end);
  if (/^\s*<think(?:ing)?>/i.test(text)) return null;
  return text;
}

/** A whole reply that is one inline code span (`result = 1 + 2`): small models do that for one-liners. */
export function unwrapInlineCode(text: string): string {
  const m = /^\s*`([^`\n]+)`\s*$/.exec(text);
  return m?.[1] ?? text;
}
