import { html } from './html.js';
import { layout } from './layout.js';

/** A 400 or 404 page: what went wrong, in words, and a way back. */
export function errorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error';
  return layout(
    title,
    html`<h1>${title}</h1>
<p class="error">${message}</p>
<p><a href="/">Back to recent changes</a></p>`,
  );
}
