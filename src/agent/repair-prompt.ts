/**
 * What the model is told, in one place: the system message of a task, the first user message (the task), and the
 * user message of each repair (the failed code, its error with category and line, its console output and the
 * earlier failures). The wording lives in `prompts/*.md`; this file fills their slots.
 */
import { describeContext } from '../codegen/context-shape.js';
import { type PromptTemplates, render } from '../codegen/prompts.js';
import { describeTools } from '../codegen/tool-docs.js';
import type { ErrorCategory } from '../core/error-categories.js';
import type { ToolDefinition } from '../sandbox/tools.js';

/** One failed try, as a repair message tells it. */
export interface Failure {
  /** The code that failed; null when the reply held no code. */
  code: string | null;
  category: ErrorCategory;
  error: string;
  /** The line in the code, when the error names one. */
  line: number | null;
  logs: string[];
  /** What the code extraction noticed about the reply (e.g. several blocks), shown with the error. */
  warning: string | null;
}

/** Console output shown with a failure: at most 4,000 characters. */
const MAX_LOG_CHARS = 4000;
/** Each earlier failure is one line of at most 300 characters. */
const MAX_HISTORY_LINE = 300;

function describeLogs(logs: string[]): string {
  if (logs.length === 0) return '(none)';
  const text = logs.join('\n');
  return text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}\n... (cut)` : text;
}

function describeHistory(failures: readonly Failure[]): string {
  if (failures.length <= 1) return '';
  const earlier = failures
    .slice(0, -1)
    .map((f, i) => `Attempt ${i + 1} failed with ${f.category}: ${f.error.split('\n')[0]?.slice(0, MAX_HISTORY_LINE)}`);
  return `\nEarlier attempts that also failed (do not repeat them):\n${earlier.join('\n')}\n`;
}

/**
 * The system message of every call of a task: the agent's prompt, its tools (and the peers its code may call, in the
 * same section: they are called the same way), the context's shape, the output's.
 */
export function systemMessage(
  prompts: PromptTemplates,
  parts: {
    systemPrompt: string;
    tools: Iterable<ToolDefinition>;
    /** The peers section (`describeSandboxPeers`), for an agent that allows peers. */
    peers?: string | null;
    context: Record<string, unknown>;
    dependencies?: readonly string[];
    output: string;
  },
): string {
  return render(prompts.system, {
    systemPrompt: parts.systemPrompt.trim(),
    tools: toolsSection([...parts.tools], parts.peers ?? null),
    context: describeContext(parts.context, parts.dependencies),
    output: parts.output,
  });
}

function toolsSection(tools: ToolDefinition[], peers: string | null): string {
  if (peers === null) return describeTools(tools);
  // "None. Do not call any function…" would contradict the peers that follow.
  return tools.length === 0 ? peers : `${describeTools(tools)}\n\n${peers}`;
}

/**
 * The user message of a call: the task on the first call; after a failure, the repair message for the last one
 * (`failures` are every failure so far, the last one being repaired).
 */
export function userMessage(prompts: PromptTemplates, task: string, failures: readonly Failure[]): string {
  const last = failures.at(-1);
  if (!last) return render(prompts.codegen, { task: task.trim() });
  return render(prompts.repair, {
    task: task.trim(),
    code: last.code ?? '(no code was found in your reply)',
    category: last.category,
    line: last.line ? `, line ${last.line}` : '',
    error: last.warning ? `${last.error}\n${last.warning}` : last.error,
    logs: describeLogs(last.logs),
    history: describeHistory(failures),
  });
}
