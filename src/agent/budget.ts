/**
 * Budgets (DESIGN.md section 2): `MAX_TASK_COST_USD`, `executeTask({ task, budgetUsd })` (overrides the
 * setting for that task) and `mesh.workflow(id, steps, { budgetUsd })` (one budget shared by every step of
 * that run; each step's own task budget still applies). Before each model call, the most it can cost is
 * estimated (`CodeModel.estimate`); a call that would exceed what is left of any budget in force is not made,
 * and the task ends with `budget`. After each call its real cost is charged.
 *
 * A budget cannot bound a model that has no price, so one is refused at start when such a model could be
 * called: at `mesh.start()` for MAX_TASK_COST_USD, at executeTask / workflow start for `budgetUsd`.
 */
import type { Settings } from '../config/settings.js';
import type { CallEstimate, CodeModel } from '../llm/code-model.js';

export class Budget {
  private spent = 0;
  /** The message of the call this budget refused, once it has refused one. */
  refusal: string | null = null;

  /** `label` says which budget this is in messages: "MAX_TASK_COST_USD", "the task budget (budgetUsd)". */
  constructor(
    readonly limitUsd: number,
    readonly label: string,
  ) {}

  get spentUsd(): number {
    return this.spent;
  }

  get leftUsd(): number {
    return Math.max(0, this.limitUsd - this.spent);
  }

  charge(usd: number): void {
    this.spent += usd;
  }
}

/** Dollars for messages: up to 6 decimals, trailing zeros dropped ($0.0123, $2). */
export function usd(amount: number): string {
  return `$${amount.toFixed(6).replace(/\.?0+$/, '')}`;
}

/** Validates a `budgetUsd` option; throws a TypeError saying what it must be. */
export function checkBudgetUsd(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where} budgetUsd must be a number of US dollars, 0 or more; got ${String(value)}.`);
  }
  return value;
}

/** Throws when a model the agent could call has no price: the budget could not bound what it costs. */
export function refuseUnpriced(model: CodeModel, owner: string, budget: string): void {
  const unpriced = model.unpricedModels();
  if (unpriced.length === 0) return;
  const models = unpriced.map((u) => `${u.provider} model "${u.model}"`).join(', ');
  throw new Error(
    `${budget} cannot bound what ${owner} spends: ${models} ${unpriced.length > 1 ? 'have' : 'has'} no price in the price table, `
      + 'so the cost of a call is unknown. Add the model to the price table (LLM_PRICES_FILE, USD per million tokens) or drop the budget.',
  );
}

/** The budgets in force for one task: its own (budgetUsd, else MAX_TASK_COST_USD) and its workflow's. */
export function taskBudgets(
  settings: Settings,
  model: CodeModel,
  owner: string,
  input: { budgetUsd?: number; workflowBudget?: Budget },
): Budget[] {
  const budgets: Budget[] = [];
  if (input.budgetUsd !== undefined) {
    budgets.push(new Budget(checkBudgetUsd(input.budgetUsd, 'executeTask'), 'the task budget (budgetUsd)'));
  } else if (settings.MAX_TASK_COST_USD !== undefined) {
    budgets.push(new Budget(settings.MAX_TASK_COST_USD, 'MAX_TASK_COST_USD'));
  }
  if (input.workflowBudget) budgets.push(input.workflowBudget);
  for (const budget of budgets) refuseUnpriced(model, owner, budget.label);
  return budgets;
}

/**
 * Null when the next call fits every budget; otherwise the message saying why it is not made (what was spent,
 * what the call was estimated at, what is left), which is also kept on the budget that refused it.
 */
export function refuseCall(budgets: readonly Budget[], estimate: CallEstimate): string | null {
  for (const budget of budgets) {
    const on = estimate.provider ? ` on ${estimate.provider} model "${estimate.model}"` : '';
    if (estimate.costUsd === null) {
      budget.refusal =
        `The next model call was not made: ${estimate.provider} model "${estimate.model}" has no price, `
        + `so ${budget.label} cannot bound it. Add the model to the price table (LLM_PRICES_FILE) or drop the budget.`;
      return budget.refusal;
    }
    // A little slack for floating-point sums of prices.
    if (estimate.costUsd <= budget.leftUsd + 1e-12) continue;
    budget.refusal =
      `The budget is spent: the next model call was not made. It was estimated at ${usd(estimate.costUsd)} `
      + `(about ${estimate.inputTokens} prompt tokens and up to ${estimate.outputTokens} output tokens${on}), but only `
      + `${usd(budget.leftUsd)} is left of ${budget.label} (${usd(budget.limitUsd)}): ${usd(budget.spentUsd)} was spent.`;
    return budget.refusal;
  }
  return null;
}

/** Charges a call that was made: its real cost, or the estimate when the provider's model had no price. */
export function chargeCall(budgets: readonly Budget[], costUsd: number | null, estimate: CallEstimate): void {
  const charged = costUsd ?? estimate.costUsd ?? 0;
  for (const budget of budgets) budget.charge(charged);
}

/** The shared budget of a workflow run, refused when an agent of its steps could call an unpriced model. */
export function workflowBudget(
  workflowId: string,
  budgetUsd: unknown,
  agents: Iterable<{ role: string; llmChain: CodeModel }>,
): Budget | null {
  if (budgetUsd === undefined) return null;
  const budget = new Budget(
    checkBudgetUsd(budgetUsd, `Workflow "${workflowId}"`),
    `the budget of workflow "${workflowId}" (budgetUsd)`,
  );
  for (const agent of agents) refuseUnpriced(agent.llmChain, `agent "${agent.role}"`, budget.label);
  return budget;
}
