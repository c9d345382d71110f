// Workflows: the list, one workflow's graph with live step states (server-sent events), and a step's envelope.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, stream } from './api.js';
import { EnvelopeView } from './envelope-view.js';
import { cost, time } from './format.js';
import { layoutGraph } from './graph-layout.js';
import type { GraphStep, StepRecord, WorkflowGraph, WorkflowHeader } from './types.js';

const NODE_W = 190;
const NODE_H = 58;
const GAP_X = 60;
const GAP_Y = 18;

function useWorkflowList(): { list: WorkflowHeader[]; error: string | null } {
  const [list, setList] = useState<WorkflowHeader[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      getJson<{ workflows: WorkflowHeader[] }>('workflows')
        .then((r) => {
          if (!live) return;
          setList(r.workflows);
          setError(null);
        })
        .catch((e: Error) => live && setError(e.message));
    void load();
    const timer = setInterval(load, 1500);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return { list, error };
}

/** The graph of `workflowId`, kept up to date by its event stream. */
function useLiveGraph(workflowId: string | null): { graph: WorkflowGraph | null; live: boolean; error: string | null } {
  const [graph, setGraph] = useState<WorkflowGraph | null>(null);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setGraph(null);
    setError(null);
    if (workflowId === null) return;
    const abort = new AbortController();
    setLive(true);
    stream(`workflows/${encodeURIComponent(workflowId)}/events`, abort.signal, ({ event, data }) => {
      if (event === 'graph') setGraph(data as WorkflowGraph);
      if (event === 'error') setError((data as { error: string }).error);
    })
      .catch((e: Error) => !abort.signal.aborted && setError(e.message))
      .finally(() => !abort.signal.aborted && setLive(false));
    return () => abort.abort();
  }, [workflowId]);
  return { graph, live, error };
}

function StepNode({
  step,
  x,
  y,
  onOpen,
  open,
}: {
  step: GraphStep;
  x: number;
  y: number;
  onOpen: () => void;
  open: boolean;
}) {
  const detail =
    step.status === 'success' || step.status === 'failure'
      ? `${step.repairs ?? 0} repairs · ${cost(step.costUsd)}`
      : step.status;
  return html`<button
    class=${`node status-${step.status}${open ? ' open' : ''}`}
    style=${`left:${x}px;top:${y}px;width:${NODE_W}px;height:${NODE_H}px`}
    data-step=${step.stepId}
    data-status=${step.status}
    onClick=${onOpen}
  >
    <b>${step.stepId}</b> <span class="dim">${step.role ?? ''}</span><br /><small>${detail}</small>
  </button>`;
}

function Graph({
  graph,
  openStep,
  onOpen,
}: {
  graph: WorkflowGraph;
  openStep: string | null;
  onOpen: (id: string) => void;
}) {
  const { placed, edges } = layoutGraph(graph.steps);
  const at = new Map(placed.map((p) => [p.stepId, { x: p.column * (NODE_W + GAP_X), y: p.row * (NODE_H + GAP_Y) }]));
  const width = Math.max(...placed.map((p) => (p.column + 1) * (NODE_W + GAP_X)), NODE_W);
  const height = Math.max(...placed.map((p) => (p.row + 1) * (NODE_H + GAP_Y)), NODE_H);
  return html`<div class="graph" data-testid="graph" style=${`width:${width}px;height:${height}px`}>
    <svg width=${width} height=${height}>
      ${edges.map(({ from, to }) => {
        const a = at.get(from);
        const b = at.get(to);
        if (!a || !b) return null;
        return html`<line x1=${a.x + NODE_W} y1=${a.y + NODE_H / 2} x2=${b.x} y2=${b.y + NODE_H / 2} />`;
      })}
    </svg>
    ${graph.steps.map((step) => {
      const p = at.get(step.stepId) ?? { x: 0, y: 0 };
      return html`<${StepNode} key=${step.stepId} step=${step} x=${p.x} y=${p.y} open=${openStep === step.stepId}
        onOpen=${() => onOpen(step.stepId)} />`;
    })}
  </div>`;
}

function StepPanel({ workflowId, step }: { workflowId: string; step: GraphStep }) {
  const [record, setRecord] = useState<StepRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Read again when the step's state changes, so an open step shows its envelope once it ends.
  useEffect(() => {
    getJson<StepRecord>(`workflows/${encodeURIComponent(workflowId)}/steps/${encodeURIComponent(step.stepId)}`)
      .then((r) => {
        setRecord(r);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [workflowId, step.stepId, step.status]);
  return html`<section class="panel" data-testid="step-panel">
    <h3>step ${step.stepId} <span class=${`badge status-${step.status}`}>${step.status}</span></h3>
    ${error ? html`<p class="bad">${error}</p>` : null}
    ${
      record
        ? html`<p class="task">${record.task}</p>
          <p class="dim">started ${time(record.startedAt)} · finished ${time(record.finishedAt)}</p>
          <${EnvelopeView} envelope=${record.envelope} />`
        : null
    }
  </section>`;
}

export function WorkflowsView() {
  const { list, error } = useWorkflowList();
  const [selected, setSelected] = useState<string | null>(null);
  const [openStep, setOpenStep] = useState<string | null>(null);
  const { graph, live, error: graphError } = useLiveGraph(selected);
  const step = graph?.steps.find((s) => s.stepId === openStep) ?? null;
  return html`<div class="split">
    <aside>
      <h3>workflows</h3>
      ${error ? html`<p class="bad">${error}</p>` : null}
      ${list.length === 0 ? html`<p class="dim">No workflows yet.</p>` : null}
      <ul class="list" data-testid="workflow-list">
        ${list.map(
          (w) => html`<li key=${w.workflowId}>
            <button class=${selected === w.workflowId ? 'selected' : ''} data-workflow=${w.workflowId}
              onClick=${() => {
                setSelected(w.workflowId);
                setOpenStep(null);
              }}>
              <b>${w.workflowId}</b> <span class=${`badge status-${w.status}`}>${w.status}</span><br />
              <small class="dim">${w.stepIds.length} steps · ${time(w.startedAt)}</small>
            </button>
          </li>`,
        )}
      </ul>
    </aside>
    <main>
      ${selected === null ? html`<p class="dim">Pick a workflow to see its graph.</p>` : null}
      ${
        graph
          ? html`<h2>${graph.workflowId} <span class=${`badge status-${graph.status}`} data-testid="workflow-status">${graph.status}</span>
            ${live ? html`<span class="live" data-testid="live">● live</span>` : null}</h2>
            ${graph.damaged.map((d) => html`<p class="bad">damaged ${d.kind} ${d.id}: ${d.reason}</p>`)}
            <${Graph} graph=${graph} openStep=${openStep} onOpen=${setOpenStep} />`
          : null
      }
      ${graphError ? html`<p class="bad">${graphError}</p>` : null}
      ${graph && step ? html`<${StepPanel} workflowId=${graph.workflowId} step=${step} />` : null}
    </main>
  </div>`;
}
