// The content pipeline's agents: four CustomAgents, one per workflow step (research → write → edit → publish). Each
// wraps plain code, no model: a workflow step runs its onPeerRequest({ task, context }), and what it returns is the
// step's output, which the next step finds in its context under the step's id (`context.research.output`, …).
// The publisher stores the article in the mesh's blobs (a folder in one process, the object store on NATS), where any
// process of the mesh can read it. Each agent prints a line when it works, so the output shows which process ran
// which step. The notes are sample data written for the example.
import { CustomAgent, type CustomAgentClass } from '../../src/index.js';

/** A workflow step's message, as a CustomAgent receives it. */
interface StepMessage {
  task: string;
  context: Record<string, unknown>;
}

export interface Research {
  topic: string;
  facts: string[];
}

export interface Draft {
  title: string;
  paragraphs: string[];
}

export interface EditedDraft extends Draft {
  changes: number;
  words: number;
}

export interface Published {
  name: string;
  bytes: number;
  store: string;
}

const NOTES: Record<string, string[]> = {
  'heat pumps': [
    'A heat pump moves heat instead of making it, so it delivers three to four units of heat per unit of electricity.',
    'Modern air-source heat pumps utilize vapour injection to keep working at minus 25 degrees Celsius.',
    'Heat pumps are very quiet when the outdoor unit sits on rubber feet away from bedroom windows.',
    'A well insulated house needs a smaller heat pump, which costs less to buy and to run.',
  ],
};

/** Output of the step `id` in a step's context (what the engine put there from the step it depends on). */
function outputOf<T>(message: StepMessage, id: string): T {
  const step = message.context[id] as { status?: string; output?: T } | undefined;
  if (step?.status !== 'success' || step.output === undefined) {
    throw new Error(`this step needs the output of step "${id}" (dependsOn: ['${id}'])`);
  }
  return step.output;
}

/** Where a line comes from: the process's NODE_NAME, as each node sets it. */
const node = (): string => process.env.NODE_NAME || 'this process';

export class Researcher extends CustomAgent {
  static override role = 'researcher';
  static override capabilities = ['research'];
  static override description = 'Collects the facts on a topic from the notes.';
  override async onPeerRequest(message: unknown): Promise<Research> {
    const { topic } = (message as StepMessage).context as { topic?: string };
    const facts = topic ? NOTES[topic] : undefined;
    if (!topic || !facts)
      throw new Error(`no notes on ${JSON.stringify(topic)}; topics: ${Object.keys(NOTES).join(', ')}`);
    console.log(`researcher on ${node()}: ${facts.length} facts on ${topic}`);
    return { topic, facts };
  }
}

export class Writer extends CustomAgent {
  static override role = 'writer';
  static override capabilities = ['writing'];
  static override description = 'Writes a draft from the research: a title and a paragraph per two facts.';
  override async onPeerRequest(message: unknown): Promise<Draft> {
    const { topic, facts } = outputOf<Research>(message as StepMessage, 'research');
    const paragraphs: string[] = [];
    for (let i = 0; i < facts.length; i += 2) paragraphs.push(facts.slice(i, i + 2).join(' '));
    console.log(`writer on ${node()}: ${paragraphs.length} paragraphs`);
    return { title: `what to know about ${topic}`, paragraphs };
  }
}

/** The house style: plain words, no intensifiers. */
const STYLE: Array<[RegExp, string]> = [
  [/\butilize\b/g, 'use'],
  [/\bvery /g, ''],
];

export class Editor extends CustomAgent {
  static override role = 'editor';
  static override capabilities = ['editing'];
  static override description = 'Edits a draft to the house style and title-cases the title.';
  override async onPeerRequest(message: unknown): Promise<EditedDraft> {
    const draft = outputOf<Draft>(message as StepMessage, 'write');
    let changes = 0;
    const paragraphs = draft.paragraphs.map((text) =>
      STYLE.reduce(
        (edited, [pattern, replacement]) =>
          edited.replace(pattern, () => {
            changes += 1;
            return replacement;
          }),
        text,
      ),
    );
    const title = draft.title.replace(/\b\w/g, (c) => c.toUpperCase());
    const words = paragraphs.join(' ').split(/\s+/).length;
    console.log(`editor on ${node()}: ${changes} changes`);
    return { title, paragraphs, changes, words };
  }
}

export class Publisher extends CustomAgent {
  static override role = 'publisher';
  static override capabilities = ['publishing'];
  static override description = "Publishes the edited article as Markdown in the mesh's blobs.";
  override async onPeerRequest(message: unknown): Promise<Published> {
    const article = outputOf<EditedDraft>(message as StepMessage, 'edit');
    const slug = article.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    const markdown = `# ${article.title}\n\n${article.paragraphs.join('\n\n')}\n`;
    const info = await this.blobs.put(`articles/${slug}.md`, markdown);
    console.log(`publisher on ${node()}: articles/${slug}.md`);
    return { name: info.name, bytes: info.size, store: this.blobs.kind };
  }
}

/** Every agent of the pipeline, by the name of the step it runs. */
export const PIPELINE: Record<string, CustomAgentClass> = {
  research: Researcher,
  write: Writer,
  edit: Editor,
  publish: Publisher,
};

/** The agents named (step names, comma-separated); every one when `names` is empty. */
export function pipelineAgents(names: string | undefined): CustomAgentClass[] {
  if (!names) return Object.values(PIPELINE);
  return names.split(',').map((name) => {
    const agent = PIPELINE[name.trim()];
    if (!agent)
      throw new Error(`Unknown pipeline agent "${name}": the agents are ${Object.keys(PIPELINE).join(', ')}.`);
    return agent;
  });
}
