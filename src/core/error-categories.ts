/**
 * Every error category a task or an execution can end with (the envelope's and the executor's `errorCategory`),
 * in one table: where it arises, whether the repair loop sends it back to the model, and what to tell a person.
 * The category types derive from it, the repair loop asks it, the CLI prints its hints.
 *
 * - `execution`: the sandbox reports it for a run of the code (`ExecutionResult.errorCategory`).
 * - `task`: the pipeline or the workflow engine gives it to a task (only ever in an envelope).
 */
export interface ErrorCategoryInfo {
  arises: 'execution' | 'task';
  /** True when the model is shown the failure and asked for better code (up to MAX_REPAIR_ATTEMPTS). */
  repairable: boolean;
  /** What a person can do about it. */
  hint: string;
}

export const ERROR_CATEGORIES = {
  syntax: {
    arises: 'execution',
    repairable: true,
    hint: 'The code did not parse (or the reply held no code). Try a stronger model, or allow more repairs with MAX_REPAIR_ATTEMPTS.',
  },
  runtime: {
    arises: 'execution',
    repairable: true,
    hint: 'The code threw; the error names the line. Check that the task text says what the context holds and which tools exist.',
  },
  timeout: {
    arises: 'execution',
    repairable: true,
    hint: 'The code ran longer than EXECUTION_TIMEOUT; raise it if the task needs the time, or ask for a faster approach.',
  },
  memory: {
    arises: 'execution',
    repairable: true,
    hint: 'The code used more heap than SANDBOX_MEMORY_MB; raise it, or ask for an approach that keeps less in memory.',
  },
  no_result: {
    arises: 'execution',
    repairable: true,
    hint: 'The code ran but stored nothing in `result`; the system prompt should say to store the answer in `result`.',
  },
  output: {
    arises: 'execution',
    repairable: true,
    hint: 'The result was not JSON data, or went over SANDBOX_MAX_OUTPUT_BYTES (or the tool-byte cap); ask for plain data.',
  },
  schema: {
    arises: 'task',
    repairable: true,
    hint: 'The result did not match the output schema; check that the schema and the task text ask for the same shape.',
  },
  tool: {
    arises: 'execution',
    repairable: true,
    hint: 'A tool call failed or went over SANDBOX_MAX_TOOL_CALLS; check the tool, and that its description says what it takes.',
  },
  llm: {
    arises: 'task',
    repairable: false,
    hint: 'Every provider failed; automesh check --validate-llm calls each one and says why (key, model, endpoint).',
  },
  budget: {
    arises: 'task',
    repairable: false,
    hint: 'The budget (budgetUsd or MAX_TASK_COST_USD) could not pay the next model call; raise it or use a cheaper model.',
  },
  dependency: {
    arises: 'task',
    repairable: false,
    hint: 'A step this one depends on failed or was skipped; fix that step, then run the workflow again (it resumes).',
  },
  crashed: {
    arises: 'execution',
    repairable: true,
    hint: 'The sandbox worker died running the code; automesh check runs the sandbox self-test.',
  },
  cancelled: {
    arises: 'task',
    repairable: false,
    hint: 'The task was cancelled: by its signal, or by mesh.stop() with MESH_STOP_MODE=cancel.',
  },
  mesh: {
    arises: 'task',
    repairable: false,
    hint: 'The agent on the mesh could not be reached or failed there (the error names its MeshError code); `automesh agents` lists who serves what.',
  },
  storage: {
    arises: 'task',
    repairable: false,
    hint: 'The result could not be stored; check that LOG_DIRECTORY is writable and has free space.',
  },
} as const satisfies Record<string, ErrorCategoryInfo>;

type Table = typeof ERROR_CATEGORIES;

/** Why a task (or an attempt) failed: any category of the table. */
export type ErrorCategory = keyof Table;

/** The categories the sandbox reports for a run of the code. */
export type ExecutionCategory = {
  [C in ErrorCategory]: Table[C]['arises'] extends 'execution' ? C : never;
}[ErrorCategory];

/** The categories in table order. */
export const ERROR_CATEGORY_NAMES = Object.keys(ERROR_CATEGORIES) as ErrorCategory[];

/** True when a failure of this category goes back to the model for a repair. */
export function isRepairable(category: ErrorCategory): boolean {
  return ERROR_CATEGORIES[category].repairable;
}

/** What a person can do about a failure of this category; null for a string that is no category. */
export function categoryHint(category: string | null | undefined): string | null {
  return category != null && Object.hasOwn(ERROR_CATEGORIES, category)
    ? ERROR_CATEGORIES[category as ErrorCategory].hint
    : null;
}
