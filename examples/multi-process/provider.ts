// One process of a two-process mesh: it provides a function agent, a streamer and an AutoAgent on NATS, and runs
// until Ctrl-C (SIGINT) or SIGTERM, then leaves the mesh cleanly. caller.ts, in another process, uses them.
// Run: automesh mesh up   (terminal 1)
//      NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/multi-process/provider.ts   (terminal 2)
import { z } from 'zod';
import { defineAgent, Mesh } from '../../src/index.js';

const mesh = new Mesh({ mode: 'distributed' });

// A function agent: your own code, zod schemas in and out. Served as `nlp.summarizer` (channel `nlp`).
mesh.agent(
  {
    name: 'nlp.summarizer',
    description: 'Shortens a text to its first words, at most maxWords of them.',
    tags: ['nlp', 'summary'],
    input: z.object({ text: z.string().min(1), maxWords: z.number().int().positive().default(8) }),
    output: z.object({ summary: z.string(), words: z.number() }),
  },
  async ({ text, maxWords }) => {
    const words = text.split(/\s+/).filter(Boolean);
    const kept = words.slice(0, maxWords);
    return { summary: kept.join(' ') + (words.length > maxWords ? ' …' : ''), words: kept.length };
  },
);

// A streamer (`async function*`): each word of the text as a chunk, as it is produced.
mesh.agent(
  {
    name: 'nlp.words',
    description: 'Streams the words of a text, one chunk per word.',
    tags: ['nlp'],
    input: z.object({ text: z.string() }),
    output: z.object({ index: z.number(), word: z.string() }),
  },
  async function* ({ text }) {
    let index = 0;
    for (const word of text.split(/\s+/).filter(Boolean)) yield { index: index++, word };
  },
);

// An AutoAgent: it asks the model for code and runs it in the sandbox. On the mesh under its role `analyst`,
// taking { task, context? } and answering with its result envelope; its capabilities are its tags.
mesh.add(
  defineAgent({
    role: 'analyst',
    capabilities: ['analysis', 'math'],
    description: 'Computes numbers from data with code.',
    systemPrompt: 'You are a data analyst. Compute what the task asks from `context` and store it in `result`.',
  }),
);

await mesh.start();
console.log(`provider ready on ${mesh.node.location} as node ${mesh.node.name}: nlp.summarizer, nlp.words, analyst`);

// Until Ctrl-C or SIGTERM: then stop taking requests, finish those in flight, leave the catalog.
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});
await mesh.stop();
console.log('provider stopped and left the mesh');
