/**
 * Cost of a call from one price table (`prices.json`, USD per million input and output tokens, with its
 * date). A model the table does not know costs `null` and is flagged `unpriced`: never a guessed default.
 * Self-hosted models (a provider declared `selfHosted`, such as vLLM) cost 0 unless the table lists them.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import builtIn from './prices.json' with { type: 'json' };
import { providerDefinition } from './providers/index.js';
import type { ProviderName } from './types.js';

const priceTableSchema = z.object({
  asOf: z.string(),
  models: z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) })),
});

export type PriceTable = z.infer<typeof priceTableSchema>;

/** The built-in table, merged with `LLM_PRICES_FILE` when given. */
export function loadPriceTable(extraFile?: string): PriceTable {
  const table = priceTableSchema.parse(builtIn);
  if (!extraFile) return table;
  let extra: PriceTable;
  try {
    extra = priceTableSchema.parse(JSON.parse(readFileSync(extraFile, 'utf8')));
  } catch (err) {
    throw new Error(
      `LLM_PRICES_FILE=${extraFile} is not a usable price table: ${(err as Error).message}. `
        + 'It must be JSON like {"asOf":"2026-01-01","models":{"my-model":{"input":1,"output":2}}} (USD per million tokens).',
    );
  }
  return { asOf: extra.asOf, models: { ...table.models, ...extra.models } };
}

/** Model ids as providers report them carry dates and revisions: `gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`. */
function candidates(model: string): string[] {
  const id = model.toLowerCase().replace(/^models\//, '');
  const out = [id];
  const stripped = id
    .replace(/-\d{4}-\d{2}-\d{2}$/, '')
    .replace(/-\d{8}$/, '')
    .replace(/-(latest|preview(-[\w-]+)?|\d{3})$/, '');
  if (stripped !== id) out.push(stripped);
  return out;
}

export interface Cost {
  costUsd: number | null;
  unpriced: boolean;
}

export function priceOf(table: PriceTable, provider: ProviderName, model: string, input: number, output: number): Cost {
  for (const id of candidates(model)) {
    const price = table.models[id];
    if (price) return { costUsd: (input * price.input + output * price.output) / 1_000_000, unpriced: false };
  }
  if (providerDefinition(provider).selfHosted) return { costUsd: 0, unpriced: false };
  return { costUsd: null, unpriced: true };
}

/** Bytes of UTF-8 per estimated token (see {@link estimatePromptTokens}). */
const BYTES_PER_TOKEN = 3;
/** Estimated tokens per message for its role and framing. */
const TOKENS_PER_MESSAGE = 8;

/**
 * A conservative count of a prompt's tokens, from its text alone: one token per 3 bytes of UTF-8, plus 8 per
 * message (the system prompt counts as one). Tokenizers average about 4 characters per token on English and
 * code, and about one per character on scripts that take 2-3 bytes, so this over-counts rather than under.
 */
export function estimatePromptTokens(system: string, messages: ReadonlyArray<{ content: string }>): number {
  let bytes = Buffer.byteLength(system, 'utf8');
  for (const m of messages) bytes += Buffer.byteLength(m.content, 'utf8');
  return Math.ceil(bytes / BYTES_PER_TOKEN) + TOKENS_PER_MESSAGE * (messages.length + 1);
}
