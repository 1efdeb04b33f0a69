import { html, type SafeHtml } from './html.js';

/**
 * The page shell. No inline script or style anywhere (the Content-Security-Policy forbids them):
 * the stylesheet is a file of its own, and every page works without JavaScript.
 */
export function layout(title: string, body: SafeHtml, options: { feed?: string } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ctgov-sync</title>
<link rel="stylesheet" href="/static/style.css">
${options.feed ? html`<link rel="alternate" type="application/atom+xml" title="Changes (Atom)" href="${options.feed}">` : ''}
</head>
<body>
<header class="top"><nav aria-label="Site"><a href="/">Recent changes</a> <a href="/feeds/changes.atom">Atom feed</a> <a href="/api/changes">JSON</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

export const STYLESHEET = `
:root { --fg: #1d2327; --muted: #5a6570; --line: #d5dadf; --del: #ffe3e0; --del-fg: #8a1c12; --ins: #dcf5df; --ins-fg: #135c23; --link: #0b4f9c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
header.top { background: #f3f5f7; border-bottom: 1px solid var(--line); padding: .5rem 1rem; }
header.top a { margin-right: 1rem; }
main { padding: 1rem; max-width: 110rem; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
h1 { font-size: 1.4rem; margin: .2rem 0 .8rem; }
h2 { font-size: 1.15rem; margin: 1.4rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f7f8f9; font-weight: 600; }
td.when { white-space: nowrap; color: var(--muted); }
td.preview { font-family: ui-monospace, monospace; font-size: .85em; color: var(--muted); max-width: 30rem; overflow-wrap: anywhere; }
code, .path { font-family: ui-monospace, monospace; font-size: .9em; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; margin-bottom: 1rem; padding: .6rem; background: #f7f8f9; border: 1px solid var(--line); }
form.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
input, select, button { font: inherit; padding: .25rem .4rem; }
nav.pages { margin: 1rem 0; display: flex; gap: 1.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table.diff td.side { width: 42%; white-space: pre-wrap; overflow-wrap: anywhere; }
table.diff td.field { width: 16%; overflow-wrap: anywhere; }
del { background: var(--del); color: var(--del-fg); text-decoration: line-through; }
ins { background: var(--ins); color: var(--ins-fg); text-decoration: none; }
ul.items { margin: 0; padding-left: 1.1rem; }
.none, .kept, .muted { color: var(--muted); }
.error { border-left: 4px solid #b3261e; padding: .5rem 1rem; background: #fff4f3; }
`;
