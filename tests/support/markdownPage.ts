import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';

/*
 * Reads a mirror page the way a reader's tool would: CommonMark + GFM tables (markdown-it), with
 * raw HTML allowed, so any HTML that reached the page shows up as html tokens instead of being
 * escaped away by the parser.
 */

const md = new MarkdownIt({ html: true, linkify: false });

export interface PageTable {
  /** The headings above the table, by level (h2 … h4), as text. */
  headings: Record<number, string>;
  header: string[];
  rows: string[][];
}

export interface ParsedPage {
  tokens: Token[];
  html: string;
  h1: string[];
  htmlTokens: Token[];
  tables: PageTable[];
}

/** The page without its front matter, parsed. */
export function parsePage(page: string): ParsedPage {
  const body = page.replace(/^---\n[\s\S]*?\n---\n/, '');
  const tokens = md.parse(body, {});
  const h1: string[] = [];
  const htmlTokens: Token[] = [];
  const tables: PageTable[] = [];
  const headings: Record<number, string> = {};
  let table: PageTable | undefined;
  let row: string[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'html_block') htmlTokens.push(t);
    for (const c of t.children ?? []) if (c.type === 'html_inline') htmlTokens.push(c);
    if (t.type === 'heading_open') {
      const level = Number(t.tag.slice(1));
      const text = inlineText(tokens[i + 1]!);
      if (level === 1) h1.push(text);
      headings[level] = text;
      for (let l = level + 1; l <= 6; l++) delete headings[l];
    } else if (t.type === 'table_open') {
      table = { headings: { ...headings }, header: [], rows: [] };
    } else if (t.type === 'tr_open') {
      row = [];
    } else if ((t.type === 'th_open' || t.type === 'td_open') && row) {
      row.push(inlineText(tokens[i + 1]!));
    } else if (t.type === 'tr_close' && table && row) {
      if (table.header.length === 0) table.header = row;
      else table.rows.push(row);
      row = undefined;
    } else if (t.type === 'table_close' && table) {
      tables.push(table);
      table = undefined;
    }
  }
  return { tokens, html: md.renderer.render(tokens, md.options, {}), h1, htmlTokens, tables };
}

/** The text a reader sees: escapes resolved, emphasis and links reduced to their text. */
export function inlineText(token: Token): string {
  if (token.type !== 'inline') return '';
  return (token.children ?? [])
    .map((c) => (c.type === 'text' || c.type === 'code_inline' ? c.content : c.type === 'softbreak' ? ' ' : ''))
    .join('');
}

/**
 * The pipe tables of the markdown source, with their cell count per line. markdown-it pads short
 * rows and drops extra cells, so the source is where a row with the wrong cell count shows.
 */
export function sourceTables(page: string): number[][] {
  const tables: number[][] = [];
  let current: number[] | undefined;
  for (const line of page.split('\n')) {
    if (line.startsWith('|')) {
      current ??= [];
      current.push(cellCount(line));
    } else if (current) {
      tables.push(current);
      current = undefined;
    }
  }
  if (current) tables.push(current);
  return tables;
}

function cellCount(line: string): number {
  let pipes = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '|') pipes++;
  }
  // `| a | b |`: one more pipe than cells.
  return pipes - 1;
}
