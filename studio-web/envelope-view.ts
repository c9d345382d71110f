// A task's envelope: outcome, output, code, and every attempt with its error and the model's raw reply.
import { html } from 'htm/preact';
import { cost, json } from './format.js';
import type { Attempt, Envelope } from './types.js';

function AttemptView({ attempt, n }: { attempt: Attempt; n: number }) {
  const outcome = attempt.error ? `${attempt.errorCategory ?? 'error'}: ${attempt.error}` : 'ok';
  return html`<li class="attempt" data-testid="attempt">
    <div class="attempt-head">
      <b>attempt ${n}</b> <span class=${attempt.error ? 'bad' : 'good'}>${outcome}</span>
      <span class="dim"> · ${attempt.provider ?? 'registry'} ${attempt.model ?? ''} · ${attempt.tokens.total} tokens ·
      ${Math.round(attempt.durationMs)} ms</span>
    </div>
    ${
      attempt.reply !== null
        ? html`<details><summary>raw reply${attempt.replyTruncated ? ' (truncated)' : ''}</summary>
          <pre data-testid="raw-reply">${attempt.reply}</pre></details>`
        : null
    }
  </li>`;
}

export function EnvelopeView({ envelope }: { envelope: Envelope | null }) {
  if (!envelope) return html`<p class="dim">No envelope yet: the step has not ended.</p>`;
  return html`<div class="envelope" data-testid="envelope">
    <dl class="facts">
      <dt>status</dt><dd class=${envelope.status === 'success' ? 'good' : 'bad'} data-testid="envelope-status">${envelope.status}</dd>
      <dt>repairs</dt><dd>${envelope.repairs}${envelope.cached ? ' (registry code, no LLM call)' : ''}</dd>
      <dt>tokens</dt><dd>${envelope.tokens.input} in · ${envelope.tokens.output} out · ${envelope.tokens.total} total</dd>
      <dt>cost</dt><dd data-testid="envelope-cost">${cost(envelope.costUsd)}</dd>
      <dt>model</dt><dd>${envelope.provider ?? '–'} / ${envelope.model ?? '–'}</dd>
      <dt>function</dt><dd>${envelope.functionId ?? '–'}</dd>
      ${envelope.error ? html`<dt>error</dt><dd class="bad">${envelope.errorCategory}: ${envelope.error}</dd>` : null}
    </dl>
    <h4>output</h4>
    <pre data-testid="envelope-output">${json(envelope.output)}</pre>
    ${envelope.code ? html`<h4>code</h4><pre data-testid="envelope-code">${envelope.code}</pre>` : null}
    <h4>attempts</h4>
    <ol class="attempts">${envelope.attempts.map((a, i) => html`<${AttemptView} attempt=${a} n=${i + 1} />`)}</ol>
  </div>`;
}
