// The numbers: results over time, tokens and cost per agent and per model, and the repair loop.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';
import { cost, percent, time } from './format.js';
import type { CostLine, Stats } from './types.js';

const WINDOWS = ['24h', '7d', '30d'];

function CostTable({ title, lines, testid }: { title: string; lines: Record<string, CostLine>; testid: string }) {
  const rows = Object.entries(lines).sort((a, b) => b[1].costUsd - a[1].costUsd || b[1].tasks - a[1].tasks);
  return html`<section><h3>${title}</h3><table data-testid=${testid}>
    <thead><tr><th></th><th>tasks</th><th>succeeded</th><th>tokens</th><th>cost</th></tr></thead>
    <tbody>${rows.map(
      ([
        name,
        l,
      ]) => html`<tr data-name=${name}><td>${name}</td><td>${l.tasks}</td><td>${percent(l.succeeded, l.tasks)}</td>
        <td>${l.tokens}</td><td>${cost(l.costUsd)}${l.unpriced ? html` <small class="dim">(+${l.unpriced} unpriced)</small>` : null}</td></tr>`,
    )}</tbody></table></section>`;
}

function Timeline({ stats }: { stats: Stats }) {
  const most = Math.max(1, ...stats.timeline.map((b) => b.tasks));
  const barW = 18;
  const h = 120;
  return html`<section><h3>results per ${stats.bucket}</h3>
    <svg class="timeline" data-testid="timeline" width=${Math.max(stats.timeline.length * (barW + 4), 40)} height=${h + 4}>
      ${stats.timeline.map((b, i) => {
        const ok = ((b.tasks - b.failed) / most) * h;
        const bad = (b.failed / most) * h;
        return html`<g><title>${time(b.start)}: ${b.tasks} tasks, ${b.failed} failed, ${cost(b.costUsd)}</title>
          <rect class="ok" x=${i * (barW + 4)} y=${h - ok} width=${barW} height=${ok} />
          <rect class="failed" x=${i * (barW + 4)} y=${h - ok - bad} width=${barW} height=${bad} /></g>`;
      })}
    </svg></section>`;
}

function Repairs({ stats }: { stats: Stats }) {
  const r = stats.repairs;
  return html`<section data-testid="repairs"><h3>repair loop</h3>
    <dl class="facts">
      <dt>tasks</dt><dd>${r.tasks}</dd>
      <dt>first try</dt><dd data-testid="first-try">${r.firstTry} (${percent(r.firstTry, r.tasks)}; ${r.cached} from the registry)</dd>
      ${Object.entries(r.afterRepairs).map(([n, count]) => html`<dt>after ${n} repair${n === '1' ? '' : 's'}</dt><dd>${count}</dd>`)}
      <dt>failed</dt><dd>${r.failed}</dd>
    </dl>
    <table data-testid="categories"><thead><tr><th>error category</th><th>failed attempts</th><th>repaired</th><th>final failures</th></tr></thead>
      <tbody>${Object.entries(r.byCategory).map(
        ([name, c]) =>
          html`<tr><td>${name}</td><td>${c.attempts}</td><td>${c.repaired}</td><td>${c.finalFailures}</td></tr>`,
      )}</tbody></table></section>`;
}

export function NumbersView() {
  const [since, setSince] = useState('7d');
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<Stats>(`stats?since=${since}`)
      .then((s) => {
        setStats(s);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [since]);
  return html`<div>
    <p>since ${WINDOWS.map(
      (w) => html`<button class=${w === since ? 'selected' : ''} onClick=${() => setSince(w)}>${w}</button> `,
    )}</p>
    ${error ? html`<p class="bad">${error}</p>` : null}
    ${
      stats
        ? html`${stats.damaged ? html`<p class="bad">${stats.damaged} damaged results not counted</p>` : null}
          <${Timeline} stats=${stats} />
          <div class="columns">
            <${CostTable} title="cost per agent" lines=${stats.byAgent} testid="by-agent" />
            <${CostTable} title="cost per model" lines=${stats.byModel} testid="by-model" />
          </div>
          <${Repairs} stats=${stats} />`
        : null
    }
  </div>`;
}
