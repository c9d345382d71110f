/**
 * Which peers an AutoAgent's generated code may call (`defineAgent({ peers: ['analyst', 'nlp.*'] })`): a pattern is
 * an agent's name, or a channel followed by `.*` for every agent under it (by prefix on dot boundaries: `nlp.*`
 * matches `nlp.words` and `nlp.en.words`, not `nlpx`), or `*` for every agent on the mesh. Checked when the agent is
 * defined, so a typo fails at once rather than as a refused call in generated code.
 */
import { agentNameProblem } from '../transport/oam/wire.js';

/** What is wrong with one pattern, or null when it is one. */
export function peerPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return `peers must be agent names or patterns; got ${JSON.stringify(pattern)}`;
  if (pattern === '*') return null;
  const name = pattern.endsWith('.*') ? pattern.slice(0, -2) : pattern;
  const problem = agentNameProblem(name);
  if (problem === null) return null;
  return `peer pattern "${pattern}" is neither an agent name nor a channel ending in ".*" (${problem}); e.g. 'analyst' or 'nlp.*'`;
}

/** Whether `role` is one of the peers the patterns allow. */
export function peerAllowed(patterns: readonly string[], role: string): boolean {
  return patterns.some(
    (pattern) => pattern === '*' || (pattern.endsWith('.*') ? role.startsWith(pattern.slice(0, -1)) : role === pattern),
  );
}
