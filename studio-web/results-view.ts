// The result log: recent results of every agent, each one's envelope.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { EnvelopeView } from './envelope-view.js';
import { time } from './format.js';
import type { ResultSummary, StoredResult } from './types.js';

export function ResultsView() {
  const [results, setResults] = useState<ResultSummary[]>([]);
  const [open, setOpen] = useState<StoredResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ results: ResultSummary[] }>('results?limit=100')
      .then((r) => setResults(r.results))
      .catch((e: Error) => setError(e.message));
  }, []);
  const show = (id: string) =>
    getJson<StoredResult>(`results/${encodeURIComponent(id)}`)
      .then(setOpen)
      .catch((e: Error) => setError(e.message));
  return html`<div>
    ${error ? html`<p class="bad">${error}</p>` : null}
    <table data-testid="results-table">
      <thead><tr><th>result</th><th>role</th><th>status</th><th>created</th><th>task</th></tr></thead>
      <tbody>
        ${results.map(
          (r) => html`<tr key=${r.resultId} data-result=${r.resultId} onClick=${() => show(r.resultId)}>
            <td><code>${r.resultId}</code></td><td>${r.role}</td>
            <td class=${r.status === 'success' ? 'good' : 'bad'}>${r.status}</td><td>${time(r.createdAt)}</td><td>${r.task}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${
      open
        ? html`<section class="panel"><h3>${open.resultId} · ${open.role}</h3><p class="task">${open.task}</p>
          <${EnvelopeView} envelope=${open.envelope} /></section>`
        : null
    }
  </div>`;
}
