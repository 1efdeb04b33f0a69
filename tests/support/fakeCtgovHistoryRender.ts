/*
 * How CT.gov's record-history endpoints render a study (see CTGOV_HISTORY.md §11, §12): text as
 * HTML with entities where API v2 has Markdown with backslash escapes, no derivedSection, today's
 * DERIVED references in every version, geoPoint kept. Written from those observations, so that
 * tests go through the same canonicalisation as real bodies.
 */

type Obj = Record<string, unknown>;

/** Markup styles: the site's renderer drifts (line breaks inside text, `<p>` in items) without any registry change. */
export type HistoryMarkup = 'standard' | 'reflowed';

const RICH_TEXT = new Set(['briefSummary', 'detailedDescription', 'eligibilityCriteria', 'description', 'studyPopulation']);

export function renderHistoryStudy(study: Obj, derivedReferences: unknown[], markup: HistoryMarkup = 'standard'): Obj {
  const copy = structuredClone(study);
  delete copy.derivedSection;
  const ps = copy.protocolSection as Obj | undefined;
  if (ps) {
    const module = (ps.referencesModule ?? {}) as Obj;
    const own = Array.isArray(module.references) ? module.references.filter((r) => (r as Obj).type !== 'DERIVED') : [];
    const all = [...own, ...structuredClone(derivedReferences)];
    if (all.length > 0) ps.referencesModule = { ...module, references: all };
  }
  return renderStrings(copy, undefined, markup) as Obj;
}

/** The DERIVED references of a record: CT.gov adds today's to every version it renders. */
export function derivedReferencesOf(study: Obj | undefined): unknown[] {
  const refs = ((study?.protocolSection as Obj | undefined)?.referencesModule as Obj | undefined)?.references;
  return Array.isArray(refs) ? refs.filter((r) => (r as Obj).type === 'DERIVED') : [];
}

function renderStrings(value: unknown, key: string | undefined, markup: HistoryMarkup): unknown {
  if (typeof value === 'string') return key && RICH_TEXT.has(key) ? markdownToHtml(value, markup) : escapeHtml(unescapeMarkdown(value), markup);
  if (Array.isArray(value)) return value.map((v) => renderStrings(v, key, markup));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderStrings(v, k, markup)]));
  }
  return value;
}

function unescapeMarkdown(text: string): string {
  return text.replace(/\\([\\`*_{}[\]()#+\-.!<>|~=])/g, '$1');
}

function escapeHtml(text: string, markup: HistoryMarkup): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\//g, markup === 'reflowed' ? '&#47;' : '&#x2F;')
    .replace(/'/g, '&#x27;');
}

/** Every sixth space a line break, as the site's renderer started doing in 2025. */
function reflow(text: string, markup: HistoryMarkup): string {
  if (markup !== 'reflowed') return text;
  let n = 0;
  return text.replace(/ /g, () => (++n % 6 === 0 ? '\n' : ' '));
}

const ITEM = /^(\s*)([*+-]|\d+\.)\s+(.*)$/;

/** Markdown paragraphs and (nested) lists as `<p>`, `<ul>`/`<ol>` and `<li>`; text without lists stays plain. */
export function markdownToHtml(md: string, markup: HistoryMarkup = 'standard'): string {
  const inline = (t: string) => reflow(escapeHtml(unescapeMarkdown(t), markup), markup);
  const lines = md.split('\n');
  if (!lines.some((l) => ITEM.test(l))) return inline(md);
  let out = '';
  const lists: Array<'ul' | 'ol'> = [];
  let para: string[] = [];
  const closePara = () => {
    if (para.length > 0) out += `<p>${inline(para.join('\n'))}</p>`;
    para = [];
  };
  const closeLists = (depth: number) => {
    while (lists.length > depth) out += `</li></${lists.pop()}>`;
  };
  const [open, close] = markup === 'reflowed' ? ['<li><p>', '</p>'] : ['<li>', ''];
  for (const line of lines) {
    const m = ITEM.exec(line);
    if (m) {
      closePara();
      const depth = Math.floor(m[1]!.length / 2);
      const type = /\d/.test(m[2]!) ? 'ol' : 'ul';
      closeLists(depth + 1);
      if (lists.length === depth + 1) out += '</li>';
      while (lists.length < depth + 1) {
        lists.push(type);
        out += `<${type}>`;
      }
      out += `${open}${inline(m[3]!)}${close}`;
    } else if (line.trim() === '') {
      closePara();
    } else {
      closeLists(0);
      para.push(line);
    }
  }
  closePara();
  closeLists(0);
  return out;
}
