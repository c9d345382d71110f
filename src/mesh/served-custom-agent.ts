/**
 * A CustomAgent as the mesh sees it: a responder named by its role, kind `custom`, its capabilities as tags, taking
 * any JSON. A request runs `onPeerRequest` (the reply is its return value), a notification (`X-Automesh-Notify`)
 * `onPeerNotify`, and a workflow step (an input with `task` and `stepId`, what the remote step runner sends to an
 * AutoAgent or a CustomAgent) `executeTask`, answered with its envelope. Each runs within the request's session.
 */
import { z } from 'zod';
import type { CustomAgent } from '../agent/custom-agent.js';
import { NOTIFY_HEADER } from '../agent/peers.js';
import { sessionOfRequest, withSession } from '../agent/session.js';
import { type AgentContext, type AnyHandler, FunctionAgent } from '../transport/oam/function-agent.js';

export function servedCustomAgent(agent: CustomAgent): FunctionAgent {
  const handler = (input: unknown, ctx: AgentContext): Promise<unknown> => {
    const session = sessionOfRequest(ctx.headers, ctx.requestId, agent.role);
    const context = { session, requestId: ctx.requestId, signal: ctx.signal };
    return withSession(session, async () => {
      const step = stepOf(input);
      if (step) return agent.executeTask({ ...step, signal: ctx.signal, session });
      if (ctx.headers[NOTIFY_HEADER] === 'true') {
        await agent.onPeerNotify(input, context);
        return undefined;
      }
      return agent.onPeerRequest(input, context);
    });
  };
  return new FunctionAgent(
    { name: agent.role, description: agent.description, tags: [...agent.capabilities], input: z.unknown() },
    handler as AnyHandler,
    'custom',
  );
}

function stepOf(input: unknown): { task: string; context: Record<string, unknown>; stepId: string } | null {
  if (typeof input !== 'object' || input === null) return null;
  const { task, context, stepId } = input as Record<string, unknown>;
  if (typeof task !== 'string' || typeof stepId !== 'string') return null;
  const ctx = typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
  return { task, context: ctx, stepId };
}
