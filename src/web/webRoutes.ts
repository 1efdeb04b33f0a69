import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { isNctId } from '../ctgov/nctId.js';
import { renderAtomFeed } from './atomFeed.js';
import { FilterError, parseChangeQuery } from './changeFilters.js';
import { listChanges, listChangesWithValues } from './changeQueries.js';
import { errorPage } from './errorPage.js';
import { renderFeedPage } from './feedPage.js';
import { STYLESHEET } from './layout.js';
import { SECURITY_HEADERS } from './security.js';
import { loadStudyPage, StudyRequestError } from './studyView.js';

export interface WebDeps {
  pool: pg.Pool;
  /** Prefix of a study's page on ClinicalTrials.gov (mirror.ctgovStudyBaseUrl). */
  ctgovStudyBaseUrl: string;
}

/**
 * The read-only web view: `/` (change feed), `/studies/{NCT}`, `/feeds/changes.atom`,
 * `/api/changes` and the stylesheet. Answers false for any other path. Only GET and HEAD reach it.
 */
export async function handleWeb(req: IncomingMessage, res: ServerResponse, url: URL, deps: WebDeps): Promise<boolean> {
  const path = url.pathname;
  if (path === '/static/style.css') {
    send(res, 200, 'text/css; charset=utf-8', STYLESHEET, { 'cache-control': 'max-age=3600' });
    return true;
  }
  if (path === '/favicon.ico') {
    // Browsers ask for it on every page; there is none, and a 404 would be logged as an error.
    res.writeHead(204, { ...SECURITY_HEADERS, 'cache-control': 'max-age=86400' });
    res.end();
    return true;
  }
  if (path === '/') {
    await answer(res, 'html', async () => {
      const query = parseChangeQuery(url.searchParams);
      return renderFeedPage(query, await listChanges(deps.pool, query));
    });
    return true;
  }
  if (path === '/api/changes') {
    await answer(res, 'json', async () => {
      const query = parseChangeQuery(url.searchParams);
      const page = await listChangesWithValues(deps.pool, query);
      return `${JSON.stringify({ changes: page.rows, nextCursor: page.next ?? null })}\n`;
    });
    return true;
  }
  if (path === '/feeds/changes.atom') {
    await answer(res, 'atom', async () => {
      const query = parseChangeQuery(url.searchParams);
      return renderAtomFeed(baseUrl(req), query, await listChangesWithValues(deps.pool, query));
    });
    return true;
  }
  const study = /^\/studies\/([^/]+)$/.exec(path);
  if (study) {
    await answer(res, 'html', async () => {
      const id = decodeURIComponent(study[1]!).toUpperCase();
      if (!isNctId(id)) throw new StudyRequestError(400, 'expected an NCT ID (NCT followed by 8 digits) after /studies/');
      return loadStudyPage(deps.pool, id, url.searchParams, deps.ctgovStudyBaseUrl);
    });
    return true;
  }
  return false;
}

const TYPES = { html: 'text/html; charset=utf-8', json: 'application/json', atom: 'application/atom+xml; charset=utf-8' } as const;

/** Runs a renderer; a bad filter is 400, an unknown study 404, each in the format asked for. */
async function answer(res: ServerResponse, format: keyof typeof TYPES, render: () => Promise<string>): Promise<void> {
  try {
    send(res, 200, TYPES[format], await render());
  } catch (err) {
    const status = err instanceof FilterError ? 400 : err instanceof StudyRequestError ? err.status : undefined;
    if (status === undefined) throw err;
    const message = (err as Error).message;
    if (format === 'html') send(res, status, TYPES.html, errorPage(status, message));
    else if (format === 'json') send(res, status, TYPES.json, `${JSON.stringify({ error: message })}\n`);
    else send(res, status, 'text/plain; charset=utf-8', `${message}\n`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Absolute links in the Atom feed: from the Host header when it looks like one. */
function baseUrl(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:.]+\](:\d+)?$/.test(host) ? `http://${host}` : 'http://localhost';
}
