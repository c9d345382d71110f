/**
 * Agent definitions: a role, capabilities and a system prompt, given as a class extending `AutoAgent`
 * (static fields) or as a plain object through `defineAgent`. Validated with zod when the agent is added,
 * so a bad definition fails at once with a message saying what to fix.
 */
import { z } from 'zod';
import { requireZod4Schema } from '../codegen/json-schema.js';
import { type LlmRoute, llmRouteSchema } from '../llm/route.js';
import { peerPatternProblem } from './peer-patterns.js';

export interface AgentDefinition {
  /** Unique name of the agent in a mesh: lower-case letters, digits, `-` and `_`, starting with a letter. */
  role: string;
  /** What the agent can do; workflow steps may name a capability instead of a role. */
  capabilities: string[];
  /** Instructions for the model: who it is and how it should answer. */
  systemPrompt: string;
  /** One line for people (CLI listings); optional. */
  description?: string;
  /** This agent's own provider order and models, e.g. `{ order: ['vllm', 'claude'], models: { claude: 'claude-haiku-4-5' } }`. */
  llm?: LlmRoute;
  /** A zod 4 schema every result of this agent must match (a task's own `outputSchema` overrides it). */
  outputSchema?: z.ZodType;
  /**
   * The peers its generated code may call with `await peers.ask(role, message)`: agent names, `channel.*` for every
   * agent under a channel, or `*` for all. The prompt describes those of them on the mesh at the time.
   */
  peers?: string[];
}

const ROLE = /^[a-z][a-z0-9_-]{0,63}$/;

/** Result logs live in <LOG_DIRECTORY>/<role>/, beside the registry/ and workflows/ stores and the blobs/ folder. */
const RESERVED_ROLES = ['registry', 'workflows', 'blobs'];

export const agentDefinitionSchema = z.object({
  role: z
    .string({ error: 'role is required (e.g. "calculator")' })
    .regex(
      ROLE,
      'role must be lower-case letters, digits, "-" or "_", starting with a letter, at most 64 characters (e.g. "data-analyst")',
    )
    .refine(
      (role) => !RESERVED_ROLES.includes(role),
      'roles "registry", "workflows" and "blobs" are reserved (they name storage folders); pick another role',
    ),
  capabilities: z
    .array(z.string().trim().min(1, 'capabilities must not contain empty names'), {
      error: 'capabilities must be a list of names (e.g. ["math", "calculations"])',
    })
    .default([]),
  systemPrompt: z
    .string({ error: 'systemPrompt is required: tell the model who it is and how to answer' })
    .refine((s) => s.trim().length > 0, 'systemPrompt must not be empty: tell the model who it is and how to answer'),
  description: z.string().optional(),
  llm: llmRouteSchema.optional(),
  peers: z
    .array(z.unknown(), { error: "peers must be a list of agent names or patterns (e.g. ['analyst', 'nlp.*'])" })
    .superRefine((patterns, ctx) => {
      for (const pattern of patterns) {
        const problem = peerPatternProblem(pattern);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      }
    })
    .transform((patterns) => [...new Set(patterns as string[])])
    .optional(),
  // Checked by requireZod4Schema (below), whose message says what to do about a zod 3 schema.
  outputSchema: z.unknown().optional(),
});

/** Validates a definition; throws a TypeError listing every problem, naming the agent when it can. */
export function validateAgentDefinition(input: unknown, source = 'agent'): AgentDefinition {
  const parsed = agentDefinitionSchema.safeParse(input);
  const role = (input as { role?: unknown } | null)?.role;
  const name = typeof role === 'string' && role ? `${source} (role "${role}")` : source;
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => issue.message);
    throw new TypeError(`Invalid ${name}: ${problems.join('; ')}.`);
  }
  const { outputSchema, ...definition } = parsed.data;
  if (outputSchema === undefined) return definition;
  return { ...definition, outputSchema: requireZod4Schema(outputSchema, `The outputSchema of ${name}`) };
}

/** Declares an agent without a class. */
export function defineAgent(definition: AgentDefinition): AgentDefinition {
  return Object.freeze({ ...validateAgentDefinition(definition) });
}
