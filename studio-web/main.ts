// automesh studio: the page. Preact + htm, bundled by esbuild at build time (dist/studio/app.js); no CDN.
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AgentsView } from './agents-view.js';
import { getJson } from './api.js';
import { NumbersView } from './numbers-view.js';
import { RegistryView } from './registry-view.js';
import { ResultsView } from './results-view.js';
import { WorkflowsView } from './workflows-view.js';

const TABS = {
  workflows: WorkflowsView,
  agents: AgentsView,
  registry: RegistryView,
  results: ResultsView,
  numbers: NumbersView,
} as const;
type Tab = keyof typeof TABS;

function App() {
  const [tab, setTab] = useState<Tab>('workflows');
  const [location, setLocation] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ location: string }>('overview')
      .then((o) => setLocation(o.location))
      .catch((e: Error) => setError(e.message));
  }, []);
  const View = TABS[tab];
  return html`<header>
      <h1>automesh studio</h1>
      <nav>${(Object.keys(TABS) as Tab[]).map(
        (name) =>
          html`<button class=${name === tab ? 'selected' : ''} data-tab=${name} onClick=${() => setTab(name)}>${name}</button>`,
      )}</nav>
      <span class="dim location" data-testid="location">${location}</span>
    </header>
    ${error ? html`<p class="bad" data-testid="error">${error}</p>` : html`<${View} />`}`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
