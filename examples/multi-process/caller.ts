// The other process of a two-process mesh: it has no agents of its own. It lists the catalog, calls the
// provider's function agent, streams from its streamer, and runs a workflow whose steps run on the provider's
// AutoAgent (the second step gets the first one's output in its context). Start provider.ts first.
// Run: NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/multi-process/caller.ts
import { type Envelope, Mesh } from '../../src/index.js';

const mesh = new Mesh({ mode: 'distributed' });
await mesh.start();
try {
  await waitForProvider();
  for (const entry of await mesh.catalog()) {
    const contract = await mesh.contract(entry.name);
    console.log(`agent ${entry.name} (${contract.shape}) on node ${contract.node ?? '?'}: ${entry.description}`);
  }

  const text = 'NATS carries every request between these two processes without shared memory or imports';
  const summary = (await mesh.call('nlp.summarizer', { text, maxWords: 5 })) as { summary: string };
  console.log(`summary: ${summary.summary}`);

  const words: string[] = [];
  for await (const chunk of mesh.stream('nlp.words', { text: 'one process provides another calls' })) {
    words.push((chunk as { word: string }).word);
  }
  console.log(`streamed ${words.length} chunks: ${words.join(' ')}`);

  // Both steps name the provider's AutoAgent (by role, then by capability): they run in the provider process.
  const results = await mesh.workflow(
    'remote-sales-report',
    [
      {
        id: 'total',
        agent: 'analyst',
        task: 'Sum the sales amounts in context.sales',
        context: { sales: [{ amount: 120 }, { amount: 80 }, { amount: 50 }] },
      },
      { id: 'share', agent: 'math', task: 'Give 20 percent of the total from the total step', dependsOn: ['total'] },
    ],
    { fresh: true },
  );
  for (const step of results as Envelope[]) {
    console.log(
      `step ${step.stepId}: ${step.status} -> ${JSON.stringify(step.output)}${step.error ? ` (${step.error})` : ''}`,
    );
  }
  console.log(`workflow: ${results.summary.succeeded}/${results.summary.steps} steps succeeded on the provider`);
} finally {
  await mesh.stop();
}

/** The provider may still be starting: wait a little for its agents to reach the catalog. */
async function waitForProvider(): Promise<void> {
  const until = Date.now() + 15_000;
  while ((await mesh.catalog({ channel: 'nlp' })).length < 2 || !(await mesh.catalog({ tags: ['analysis'] })).length) {
    if (Date.now() > until)
      throw new Error(
        'The provider agents are not on the mesh: start examples/multi-process/provider.ts first, with the same NATS_URL.',
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
