/**
 * The studio (the web dashboard, src/studio) under `/studio/` of `automesh serve`: made on the first request after
 * the mesh has started, since it reads the running mesh's storage (results, registry, workflow state) and its live
 * catalog. The same access token guards it as the rest of the service.
 */
import type { RequestListener, ServerResponse } from 'node:http';
import { secretsOf } from '../llm/redact.js';
import type { Mesh } from '../mesh/mesh.js';
import { createStudio, type Studio } from '../studio/handler.js';
import { agentsOfMesh } from '../studio/source.js';

export const STUDIO_BASE = '/studio/';

export interface StudioMount {
  /** `next` with the studio's paths answered first. */
  wrap(next: RequestListener): RequestListener;
  /** Ends the studio's live streams (before the server closes: its close waits for them). */
  close(): void;
}

function answer(res: ServerResponse, status: number, body: Record<string, string>, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function mountStudio(mesh: Mesh, token: string | undefined): StudioMount {
  let studio: Studio | null = null;
  const studioOf = (): Studio => {
    const storage = mesh.storage;
    const access = token ?? mesh.settings.SERVE_TOKEN;
    studio ??= createStudio({
      source: {
        storage,
        location: storage.location,
        agents: () => agentsOfMesh(mesh),
      },
      basePath: STUDIO_BASE,
      ...(access ? { token: access } : {}),
      secrets: secretsOf(mesh.settings),
    });
    return studio;
  };
  return {
    wrap: (next) => (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path !== '/studio' && !path.startsWith(STUDIO_BASE)) return next(req, res);
      if (path === '/studio') return answer(res, 308, { location: STUDIO_BASE }, { location: STUDIO_BASE });
      if (!mesh.started)
        return answer(res, 503, { error: 'not_started', message: 'The mesh is not running: try again in a moment.' });
      studioOf()
        .handle(req, res)
        .then((handled) => {
          if (!handled && !res.headersSent)
            answer(res, 404, { error: 'not_found', message: `No studio page or route ${req.method} ${path}.` });
        })
        .catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    },
    close: () => studio?.close(),
  };
}
