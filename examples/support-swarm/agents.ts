// The customer support swarm's agents. `triage` (a CustomAgent) takes each customer message, finds the specialist for
// it by capability through this.peers and asks it; the customer's session (id, and metadata: who they are, their
// plan) travels with the request to the specialist, and triage keeps each session's turns in the mesh's shared KV,
// so a follow-up ("when do I get it back?") goes to the specialist of the turn before. `billing` and `tech` are
// CustomAgents wrapping plain code; `usage_analyst` is an AutoAgent: it writes a program over the customer's usage,
// which it reads through a tool. The data is sample data written for the example.
import { z } from 'zod';
import { AutoAgent, CustomAgent, defineTool, type Envelope, type PeerContext } from '../../src/index.js';

/** What a customer's message to the swarm looks like. */
export interface CustomerMessage {
  message: string;
}

/** What triage answers. */
export interface SupportReply {
  turn: number;
  topic: Topic;
  routedTo: string;
  reply: string;
}

type Topic = 'billing' | 'tech' | 'usage' | 'general';

interface Invoice {
  id: string;
  amount: number;
  charges: number;
}

const INVOICES: Record<string, Invoice[]> = {
  ada: [
    { id: 'INV-1001', amount: 49, charges: 1 },
    { id: 'INV-1002', amount: 49, charges: 2 },
  ],
  grace: [{ id: 'INV-2001', amount: 19, charges: 1 }],
};

/** API calls per day last week, Monday first. */
const USAGE: Record<string, number[]> = {
  ada: [120, 340, 95, 410, 280, 60, 15],
  grace: [12, 8, 30, 4, 0, 0, 2],
};

const KNOWN_ISSUES = [
  { id: 'AUTH-17', pattern: /log ?in|sign ?in/i, fix: 'update the app to 2.4.1, which fixes the crash at login' },
  { id: 'SYNC-3', pattern: /sync/i, fix: 'sign out and in again to reset the sync token' },
];

const TOPICS: Array<[Topic, RegExp]> = [
  ['billing', /invoice|charged|refund|bill/i],
  ['tech', /crash|error|bug|log ?in|sync/i],
  ['usage', /usage|api calls|how many/i],
];

/** The session's metadata, as the customer's front end set it. */
function customerOf(ctx: PeerContext): { customer: string; plan: string } {
  const { customer, plan } = ctx.session.metadata as { customer?: unknown; plan?: unknown };
  if (typeof customer !== 'string') throw new Error('the session names no customer (metadata.customer)');
  return { customer, plan: typeof plan === 'string' ? plan : 'basic' };
}

/** A KV key token for a session id. */
const sessionKey = (id: string): string => `support.sessions.${id.replace(/[^-\w]/g, '_')}`;

export class Triage extends CustomAgent {
  static override role = 'triage';
  static override capabilities = ['support'];
  static override description = 'Takes a customer message, asks the specialist for its topic, and answers.';

  override async onPeerRequest(message: unknown, ctx: PeerContext): Promise<SupportReply> {
    const { message: text } = message as CustomerMessage;
    const history = (await this.kv.getJson<Topic[]>(sessionKey(ctx.session.id))) ?? [];
    // A message with no topic of its own follows up on the turn before.
    const topic = TOPICS.find(([, pattern]) => pattern.test(text))?.[0] ?? history.at(-1) ?? 'general';
    await this.kv.put(sessionKey(ctx.session.id), [...history, topic]);
    const turn = history.length + 1;
    if (topic === 'general') {
      return { turn, topic, routedTo: this.role, reply: 'Could you tell us a little more about what you need?' };
    }
    const specialist = this.peers.discoverOne({ capability: topic, strategy: 'round_robin' });
    const reply =
      topic === 'usage'
        ? usageReply(await this.peers.ask(specialist.role, usageTask(text, ctx), { timeoutMs: 120_000 }))
        : (
            (await this.peers.ask(specialist.role, { message: text, followUp: history.at(-1) === topic })) as {
              reply: string;
            }
          ).reply;
    return { turn, topic, routedTo: specialist.role, reply };
  }
}

/** The AutoAgent's task: the question, with the customer from the session (its tool reads their usage). */
function usageTask(question: string, ctx: PeerContext): { task: string; context: Record<string, unknown> } {
  return {
    task: `Answer from last week's API usage: ${question}`,
    context: { customer: customerOf(ctx).customer, days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] },
  };
}

function usageReply(answer: unknown): string {
  const envelope = answer as Envelope;
  if (envelope.status !== 'success') return `Sorry, the usage figures are not available right now (${envelope.error}).`;
  const { total, busiest } = envelope.output as { total: number; busiest: string };
  return `You made ${total} API calls last week; the busiest day was ${busiest}.`;
}

export class Billing extends CustomAgent {
  static override role = 'billing';
  static override capabilities = ['billing'];
  static override description = 'Invoices and refunds: finds a double charge and refunds it (at once on pro plans).';

  override async onPeerRequest(message: unknown, ctx: PeerContext): Promise<{ reply: string }> {
    const { followUp } = message as { followUp: boolean };
    const { customer, plan } = customerOf(ctx);
    const refundKey = `support.refunds.${customer}`;
    if (followUp) {
      const refund = await this.kv.getJson<{ invoice: string; amount: number }>(refundKey);
      if (refund) {
        return {
          reply: `Your refund of ${refund.amount.toFixed(2)} EUR for ${refund.invoice} reaches your card in 3-5 business days.`,
        };
      }
    }
    const doubled = (INVOICES[customer] ?? []).find((invoice) => invoice.charges > 1);
    if (!doubled) return { reply: `I found no double charge on your invoices, ${customer}.` };
    await this.kv.put(refundKey, { invoice: doubled.id, amount: doubled.amount });
    return plan === 'pro'
      ? { reply: `Refund of ${doubled.amount.toFixed(2)} EUR issued for ${doubled.id} (charged twice).` }
      : {
          reply: `Refund of ${doubled.amount.toFixed(2)} EUR requested for ${doubled.id}; it is approved within 2 days.`,
        };
  }
}

export class TechSupport extends CustomAgent {
  static override role = 'tech_support';
  static override capabilities = ['tech'];
  static override description = 'Matches a problem against the known issues and says how to fix it.';

  override async onPeerRequest(message: unknown, ctx: PeerContext): Promise<{ reply: string }> {
    const { message: text } = message as { message: string };
    const issue = KNOWN_ISSUES.find((known) => known.pattern.test(text));
    const { customer } = customerOf(ctx);
    return issue
      ? { reply: `Known issue ${issue.id}: ${issue.fix}.` }
      : { reply: `I opened a ticket for you, ${customer}; an engineer will reply within a day.` };
  }
}

/** The usage tool: runs on the host, called by the analyst's generated code. */
export const usageTool = defineTool({
  name: 'usage.daily',
  description: 'API calls per day last week (Monday first) of a customer: number[7]',
  input: z.tuple([z.string().describe('customer id')]),
  run: async (customer) => {
    const days = USAGE[customer];
    if (!days) throw new Error(`no usage recorded for customer "${customer}"`);
    return days;
  },
});

export class UsageAnalyst extends AutoAgent {
  static override role = 'usage_analyst';
  static override capabilities = ['usage'];
  static override systemPrompt =
    "You analyse a customer's API usage. Read it with `await usage.daily(context.customer)` (calls per day, "
    + 'in the order of `context.days`). Store `{ total: number, busiest: string }` in `result` (busiest: the day name).';
}
