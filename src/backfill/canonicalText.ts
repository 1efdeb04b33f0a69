/*
 * CT.gov's record-history endpoints render text as HTML (`<p>`, `<ul><li>`) with HTML entities
 * (`&#x2F;` for every `/`, `&lt;`, `&#x27;`), where API v2 gives Markdown with backslash escapes.
 * These functions turn the first into the second as far as that can be done faithfully, and
 * give both a canonical form on which a re-rendering (different markup, escaping, line breaks)
 * compares equal while a change to the words does not.
 */

// The tags the history endpoints write (plus highlight markup the website adds to search hits).
const TAG = /<(\/?)(p|ul|ol|li|br|div|span|b|i|em|strong|u|sub|sup|mark|a)\b[^<>]*>/gi;
const HAS_TAG = /<\/?(p|ul|ol|li|br|div|span|b|i|em|strong|u|sub|sup|mark|a)\b[^<>]*>/i;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** `&#x2F;` → `/`, `&lt;` → `<`, … (numeric and the common named entities); others stay as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

/** Whether the text carries HTML markup of the kind the history endpoints write. */
export function hasMarkup(text: string): boolean {
  return text.includes('<') && HAS_TAG.test(text);
}

interface Block {
  kind: 'p' | 'li';
  /** A list item's indentation and marker. */
  prefix: string;
  text: string;
}

/**
 * History text in v2's form: entities decoded; paragraphs become blank-line separated text,
 * `<ul>`/`<ol>` items `* item` / `1. item` (nested lists indented by two spaces per level), `<br>`
 * a line break, other tags dropped; `<` and `>` in the words escaped with a backslash as v2
 * escapes them. Text without markup is only decoded.
 */
export function historyTextToMarkdown(text: string): string {
  if (!hasMarkup(text)) return decodeEntities(text);
  const blocks: Block[] = [];
  const lists: Array<{ ordered: boolean; n: number }> = [];
  let current: Block = { kind: 'p', prefix: '', text: '' };
  let inItem = 0;
  const flush = (next: Block['kind'] = 'p', prefix = '') => {
    const text = current.text.replace(/[ \t]+$/gm, '').trim();
    if (text !== '') blocks.push({ kind: current.kind, prefix: current.prefix, text });
    current = { kind: next, prefix, text: '' };
  };
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    current.text += escapeMarkdown(decodeEntities(text.slice(last, m.index)));
    last = m.index + m[0].length;
    const closing = m[1] === '/';
    const tag = m[2]!.toLowerCase();
    if (tag === 'ul' || tag === 'ol') {
      flush();
      if (closing) lists.pop();
      else lists.push({ ordered: tag === 'ol', n: 0 });
    } else if (tag === 'li') {
      if (closing) {
        inItem = Math.max(0, inItem - 1);
        flush();
      } else {
        const list = lists[lists.length - 1] ?? { ordered: false, n: 0 };
        const marker = list.ordered ? `${++list.n}. ` : '* ';
        inItem++;
        flush('li', `${'  '.repeat(Math.max(0, lists.length - 1))}${marker}`);
      }
    } else if (tag === 'p' || tag === 'div') {
      // A paragraph inside a list item stays part of the item.
      if (inItem === 0) flush();
      else if (!closing && current.text.trim() !== '') current.text += ' ';
    } else if (tag === 'br') {
      current.text += '\n';
    }
  }
  current.text += escapeMarkdown(decodeEntities(text.slice(last)));
  flush();
  let out = '';
  blocks.forEach((b, i) => {
    if (i > 0) out += b.kind === 'li' && blocks[i - 1]!.kind === 'li' ? '\n' : '\n\n';
    out += b.prefix + b.text;
  });
  return out;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[<>]/g, (c) => `\\${c}`);
}

/**
 * The canonical form of a text, HTML or Markdown: markup, list markers, backslash escapes and
 * entities removed, whitespace runs collapsed to one space. Two renderings of the same words
 * have the same canonical form; an edit to the words changes it.
 */
export function canonicalText(text: string): string {
  let t = text.includes('<') ? text.replace(TAG, '\n') : text;
  t = decodeEntities(t);
  t = t.replace(/\\([\\`*_{}[\]()#+\-.!<>|~=])/g, '$1');
  t = t.replace(/^[ \t]*(?:[*+-]|\d+[.)])[ \t]+/gm, '');
  return t.replace(/\s+/g, ' ').trim();
}
