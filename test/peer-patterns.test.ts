// Which peers an AutoAgent's code may call (peer-patterns.ts, `defineAgent({ peers })`): names, `channel.*` by prefix
// on dot boundaries, `*`; a bad pattern is refused when the agent is defined, saying what a pattern is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { peerAllowed, peerPatternProblem } from '../src/agent/peer-patterns.js';
import { AutoAgent, defineAgent } from '../src/index.js';

test('a name matches itself only; channel.* matches the agents under the channel; * matches all', () => {
  const patterns = ['analyst', 'nlp.*'];
  assert.equal(peerAllowed(patterns, 'analyst'), true);
  assert.equal(peerAllowed(patterns, 'analyst.v2'), false);
  assert.equal(peerAllowed(patterns, 'nlp.words'), true);
  assert.equal(peerAllowed(patterns, 'nlp.en.words'), true);
  assert.equal(peerAllowed(patterns, 'nlp'), false);
  assert.equal(peerAllowed(patterns, 'nlpx.words'), false);
  assert.equal(peerAllowed(patterns, 'billing'), false);
  assert.equal(peerAllowed(['*'], 'billing'), true);
  assert.equal(peerAllowed([], 'analyst'), false);
});

test('bad patterns are named with what a pattern is', () => {
  assert.equal(peerPatternProblem('nlp.*'), null);
  assert.equal(peerPatternProblem('*'), null);
  assert.match(
    peerPatternProblem('nlp*') ?? '',
    /peer pattern "nlp\*" is neither an agent name nor a channel ending in "\.\*"/,
  );
  assert.match(peerPatternProblem('a..b') ?? '', /empty segment/);
  assert.match(peerPatternProblem(3) ?? '', /got 3/);
});

test('defineAgent and a static peers field are checked when the agent is defined; duplicates collapse', () => {
  const base = { role: 'planner', systemPrompt: 'Plan.' };
  assert.deepEqual(defineAgent({ ...base, peers: ['analyst', 'nlp.*', 'analyst'] }).peers, ['analyst', 'nlp.*']);
  assert.throws(
    () => defineAgent({ ...base, peers: ['analyst', 'nlp*'] }),
    /Invalid agent \(role "planner"\): peer pattern "nlp\*" is neither/,
  );
  assert.throws(
    () => defineAgent({ ...base, peers: 'analyst' as never }),
    /peers must be a list of agent names or patterns/,
  );
  class Planner extends AutoAgent {
    static override role = 'planner';
    static override systemPrompt = 'Plan.';
    static override peers = ['bad name'];
  }
  assert.throws(() => new Planner(), /agent class Planner \(role "planner"\): peer pattern "bad name"/);
});

test('a tool in the peers namespace is refused for an agent with peers, and allowed for one without', () => {
  const tools = { peers: { ask: async () => 1 } };
  assert.throws(
    () => new AutoAgent(defineAgent({ role: 'planner', systemPrompt: 'Plan.', peers: ['analyst'] }), { tools }),
    /tool "peers\.ask" is in the namespace "peers", which generated code of an agent with peers uses/,
  );
  assert.equal(new AutoAgent(defineAgent({ role: 'planner', systemPrompt: 'Plan.' }), { tools }).tools.size, 1);
});
