/** NATS subject matching: `*` matches exactly one token, a final `>` one or more; everything else literally. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  // Most subscriptions (agents, reply inboxes) are literal: no need to split both subjects for every message.
  if (!pattern.includes('*') && !pattern.includes('>')) return false;
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === '>') return have.length > i;
    if (i >= have.length) return false;
    if (token !== '*' && token !== have[i]) return false;
  }
  return want.length === have.length;
}
