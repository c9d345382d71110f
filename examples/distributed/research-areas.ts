// The research network's parts, shared by its processes: the three research areas (each served by its own node,
// with the notes only that node holds), the synthesizer's agent and task, and the wait for the nodes. A node owns
// its notes the way a machine owns its data: the step that needs them has to run there.
import { z } from 'zod';
import { type AgentDefinition, defineAgent, defineTool, type Mesh, type ToolDefinition } from '../../src/index.js';

export const WORKFLOW_ID = 'ai-landscape-q1';

/** One note of a node's own collection (sample data for the example, not real research). */
export interface Note {
  id: string;
  claim: string;
  source: string;
  /** How much the node trusts it, 0 to 1. */
  weight: number;
  themes: string[];
}

export interface ResearchArea {
  /** The step id in the workflow. */
  step: string;
  /** The node that serves it, unless NODE_NAME says otherwise. */
  node: string;
  agent: AgentDefinition;
  task: string;
  notes: Note[];
}

/** A note written on one line: `weight themes source: claim` (themes separated by commas). */
function parseNote(line: string, index: number, step: string): Note {
  const match = /^(\S+) (\S+) (\S+): (.+)$/.exec(line);
  if (!match) throw new Error(`Note ${index + 1} of ${step} is not "weight themes source: claim": ${line}`);
  const [, weight, themes, source, claim] = match as unknown as [string, string, string, string, string];
  return { id: `${step}-${index + 1}`, claim, source, weight: Number(weight), themes: themes.split(',') };
}

/** An area: its step, its node, its agent (a researcher of `field`, taught to use its node's notes), its notes. */
function area(
  step: string,
  node: string,
  agent: { role: string; capabilities: string[]; field: string; subject: string },
  task: string,
  notes: string[],
): ResearchArea {
  return {
    step,
    node,
    task,
    agent: defineAgent({
      role: agent.role,
      capabilities: agent.capabilities,
      description: `Researches ${agent.subject} from the notes of its node.`,
      systemPrompt:
        `You are a ${agent.field} researcher on one node of a research network. Your node's notes are the only `
        + 'source you may use: read them with `await library.notes()`. Answer with data: `result = { area, node, '
        + 'headline, keyFindings: string[], themes: string[], sources: string[] }`, built from the three notes with '
        + 'the highest weight (headline: the claim of the first; themes: their themes without repeats; area and '
        + 'node: as the library names them).',
    }),
    notes: notes.map((line, index) => parseNote(line, index, step)),
  };
}

export const RESEARCH_AREAS: readonly ResearchArea[] = [
  area(
    'tech',
    'research-node-1',
    {
      role: 'tech_researcher',
      capabilities: ['tech_research', 'ai_hardware', 'research'],
      field: 'technology',
      subject: 'AI hardware',
    },
    'Research AI chip and hardware trends for Q1 2026 from your notes',
    [
      '0.9 inference,memory tech-brief-03: Inference accelerators ship with more high-bandwidth memory per chip',
      '0.8 energy,datacenters tech-brief-07: Power per rack limits how densely accelerators are deployed',
      '0.7 inference,open-models tech-brief-11: Smaller open-weight models fit on a single accelerator',
      '0.5 manufacturing tech-brief-12: Chiplet packaging spreads one design over several dies',
    ],
  ),
  area(
    'market',
    'research-node-2',
    {
      role: 'market_researcher',
      capabilities: ['market_research', 'investment', 'research'],
      field: 'market',
      subject: 'AI investment',
    },
    'Research AI investment trends and deal activity for Q1 2026 from your notes',
    [
      '0.9 inference,spending market-memo-21: Spending moves from training clusters to serving inference at scale',
      '0.8 energy,datacenters market-memo-24: Datacenter operators sign long power contracts before they build',
      '0.6 pricing,inference market-memo-30: Buyers compare cost per million tokens across providers',
      '0.4 spending market-memo-33: Model-serving startups consolidate',
    ],
  ),
  area(
    'reg',
    'research-node-3',
    {
      role: 'reg_researcher',
      capabilities: ['regulatory_research', 'policy', 'research'],
      field: 'regulatory',
      subject: 'AI regulation',
    },
    'Research AI regulatory developments for Q1 2026 from your notes',
    [
      '0.9 transparency,open-models policy-log-02: Rules for general-purpose models phase in, transparency duties first',
      '0.8 energy,datacenters policy-log-05: Energy reporting for large datacenters is proposed in several places',
      '0.7 transparency,logging policy-log-09: Providers of high-risk systems keep logs of automated decisions',
      '0.5 procurement policy-log-14: Public buyers are asked to document model provenance',
    ],
  ),
];

export const SYNTHESIZER = defineAgent({
  role: 'synthesizer',
  capabilities: ['synthesis', 'reporting'],
  description: 'Joins the research reports of the network into one briefing.',
  systemPrompt:
    'You are a research director. The reports of the steps you depend on are in `context.previousStepResults` '
    + '(each one also under its step id); read each report from its `output`. Answer with data: `result = { title, '
    + 'sections: Array<{ area, node, headline, findings: number }>, crossCuttingThemes: string[], sources: number }` '
    + '(crossCuttingThemes: the themes every report has; sources: how many sources the reports cite in all).',
});

export const SYNTHESIS_TASK =
  'Synthesise the technology, market and regulatory reports into one AI landscape briefing for Q1 2026';

/** The research area a node serves, by step id (`tech`, `market`, `reg`), with what to pass when it is wrong. */
export function researchArea(step: string | undefined): ResearchArea {
  const area = RESEARCH_AREAS.find((a) => a.step === step);
  if (!area) {
    const known = RESEARCH_AREAS.map((a) => a.step).join(', ');
    throw new Error(`Name the research area this node serves: one of ${known} (got ${JSON.stringify(step)}).`);
  }
  return area;
}

const noteSchema = z.object({
  id: z.string(),
  claim: z.string(),
  source: z.string(),
  weight: z.number(),
  themes: z.array(z.string()),
});

/**
 * The tool that gives an area's agent its node's notes. It runs in the node's process (tools run on the host
 * that runs the code), so its log line says which node did the research.
 */
export function libraryTool(area: ResearchArea, mesh: Mesh): ToolDefinition {
  return defineTool({
    name: 'library.notes',
    description: "Returns this node's research notes: { node, area, notes: [{ id, claim, source, weight, themes }] }",
    input: z.tuple([]),
    output: z.object({ node: z.string(), area: z.string(), notes: z.array(noteSchema) }),
    run: async () => {
      console.log(`${mesh.node.name}: ${area.agent.role} read its ${area.notes.length} notes`);
      return { node: mesh.node.name, area: area.step, notes: area.notes };
    },
  });
}

/**
 * Waits until every research agent is in the mesh's catalog (the nodes may still be starting), and returns the
 * node that serves each one, by role.
 */
export async function waitForResearchers(mesh: Mesh, timeoutMs: number): Promise<Map<string, string>> {
  const roles = RESEARCH_AREAS.map((a) => a.agent.role);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const listed = new Set((await mesh.catalog()).map((entry) => entry.name));
    const missing = roles.filter((role) => !listed.has(role));
    if (missing.length === 0) break;
    if (Date.now() > until) {
      throw new Error(
        `The research agents ${missing.join(', ')} are not on the mesh after ${timeoutMs / 1000} s: start their `
          + 'nodes (examples/distributed/research-node.ts tech|market|reg) with the same NATS_URL.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const nodes = new Map<string, string>();
  for (const role of roles) nodes.set(role, (await mesh.contract(role)).node ?? 'unknown node');
  return nodes;
}
