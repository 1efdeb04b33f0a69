import { compareCodeUnits } from '../studies/canonical.js';

export interface MirrorIndexEntry {
  nctId: string;
  title: string;
  overallStatus: string;
  lastChangedAt: Date | null;
  ctLastUpdatePostDate?: string;
  /** CT.gov no longer returns the study (its status is the last one known). */
  removedAt?: Date;
}

/** `index.md` of the mirror: one table row per study, by NCT ID, linking to its page. Pure. */
export function renderMirrorIndex(entries: readonly MirrorIndexEntry[]): string {
  const rows = [...entries]
    .sort((a, b) => compareCodeUnits(a.nctId, b.nctId))
    .map((e) =>
      row([
        `[${cell(e.nctId)}](${encodeURIComponent(e.nctId)}.md)`,
        cell(e.title),
        e.removedAt ? `REMOVED ${e.removedAt.toISOString().slice(0, 10)} (last known: ${cell(e.overallStatus)})` : cell(e.overallStatus),
        e.lastChangedAt ? e.lastChangedAt.toISOString().slice(0, 10) : '—',
        e.ctLastUpdatePostDate ? cell(e.ctLastUpdatePostDate) : '—',
      ]),
    );
  const count = `${entries.length} ${entries.length === 1 ? 'study' : 'studies'}.`;
  const table = [row(['NCT ID', 'Title', 'Status', 'Last change', 'CT.gov last update']), row(['---', '---', '---', '---', '---']), ...rows];
  return `# ClinicalTrials.gov mirror\n\n${count}\n\n${table.join('\n')}\n`;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

// A cell must stay on one line, and `|` splits cells unless escaped; backslashes are escaped
// first so a `\` already in the text cannot pair up with ours and leave the `|` bare.
function cell(text: string): string {
  const flat = text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim();
  return (flat || '—').replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}
