// The words a model reads about its peers (peer-context.ts): one entry per peer with its capabilities, what it takes
// and returns (types rendered from the contract's JSON Schemas), triggers, streamers, unreadable contracts and long
// types; the cognitive context around the list, and the line for nobody there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cognitiveContextText, describePeer, MAX_TYPE_CHARS } from '../src/agent/peer-context.js';
import type { PeerDescription } from '../src/agent/peer-directory.js';

const words: PeerDescription = {
  role: 'nlp.words',
  description: 'Counts the words of a text.',
  capabilities: ['nlp', 'text'],
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  outputSchema: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
  shape: 'responder',
};

test('a peer: description, capabilities, the type it takes and the type it returns', () => {
  assert.equal(
    describePeer(words),
    [
      '- nlp.words: Counts the words of a text.',
      '  Capabilities: nlp, text.',
      '  Takes: { text: string }.',
      '  Returns: { count: number }.',
    ].join('\n'),
  );
});

test('any JSON, no input (a trigger), a streamer, a contract that could not be read', () => {
  const custom = describePeer({ ...words, role: 'triage', capabilities: [], inputSchema: {}, outputSchema: null });
  assert.match(
    custom,
    /^- triage: Counts the words of a text\.\n {2}Takes: any JSON data\.\n {2}Returns: any JSON data\.$/,
  );
  assert.match(describePeer({ ...words, inputSchema: null, shape: 'trigger' }), /Takes: nothing \(send no message\)\./);
  assert.match(describePeer({ ...words, shape: 'streamer' }), /streams its answer in chunks/);
  assert.match(
    describePeer({ ...words, inputSchema: null, outputSchema: null, shape: null }),
    /Takes: unknown \(its contract could not be read\)\./,
  );
  assert.match(describePeer({ ...words, description: '  ' }), /^- nlp\.words: \(no description\)/);
});

test('a long type is cut, so one big contract cannot flood the prompt', () => {
  const properties = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field${i}`, { type: 'string' }]));
  const text = describePeer({ ...words, inputSchema: { type: 'object', properties } });
  const takes = text.split('\n').find((line) => line.includes('Takes:')) ?? '';
  assert.ok(takes.length < MAX_TYPE_CHARS + 20, takes);
  assert.match(takes, /…\.$/);
});

test('the cognitive context: how many there are and each one; a plain sentence when nobody is there', () => {
  const text = cognitiveContextText([words, { ...words, role: 'nlp.lang', description: 'Tells the language.' }]);
  assert.match(text, /^These other agents \(peers\) are on the mesh now \(2\)/);
  assert.match(text, /- nlp\.words: Counts the words of a text\.\n/);
  assert.match(text, /- nlp\.lang: Tells the language\.\n/);
  assert.equal(cognitiveContextText([]), 'No other agent (peer) is on the mesh right now, so there is nobody to ask.');
});
