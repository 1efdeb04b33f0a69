import { parse as parseYaml } from 'yaml';

/*
 * Reads a mirror page the way its consumers do (front matter as YAML, body as CommonMark fences
 * and headings) to prove that no field value broke out of the place it was written to.
 */

export const FRONT_MATTER_KEYS = [
  'title', 'nct_id', 'overall_status', 'phase', 'sponsor', 'study_type', 'primary_condition', 'countries',
  'canonical_url', 'clinicaltrials_gov', 'ct_last_update_post_date', 'last_seen_at', 'source',
];

const SECTION = /^## (Key Facts|Brief Summary|Detailed Description|Eligibility|Arms|Interventions|Primary Outcomes|Secondary Outcomes|Locations \(\d+\)|Recent Field Changes \(last \d+ days?\))$/;

export interface ParsedPage {
  frontMatter: Record<string, unknown>;
  /** Headings outside fenced blocks, in order. */
  headings: string[];
  /** Contents of the fenced blocks, in order. */
  fenced: string[];
}

export function parseMirrorPage(text: string): ParsedPage {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) throw new Error('page does not start with a front matter block');
  const frontMatter = parseYaml(m[1]!, { strict: true, uniqueKeys: true }) as Record<string, unknown>;
  const headings: string[] = [];
  const fenced: string[] = [];
  let fence: { char: string; length: number; lines: string[] } | undefined;
  for (const line of text.slice(m[0].length).split('\n')) {
    const marker = /^(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (marker && marker[1]![0] === fence.char && marker[1]!.length >= fence.length && marker[2]!.trim() === '') {
        fenced.push(fence.lines.join('\n'));
        fence = undefined;
      } else {
        fence.lines.push(line);
      }
    } else if (marker) {
      fence = { char: marker[1]![0]!, length: marker[1]!.length, lines: [] };
    } else if (/^ {0,3}#{1,6}( |$)/.test(line)) {
      headings.push(line);
    }
  }
  if (fence) throw new Error('a fenced block is never closed');
  return { frontMatter, headings, fenced };
}

/** The problems that would let a value escape: unknown keys, a wrong nct_id, stray headings. */
export function pageProblems(text: string, nctId: string): string[] {
  let page: ParsedPage;
  try {
    page = parseMirrorPage(text);
  } catch (err) {
    return [(err as Error).message];
  }
  const problems: string[] = [];
  const keys = Object.keys(page.frontMatter);
  for (const k of keys) if (!FRONT_MATTER_KEYS.includes(k)) problems.push(`unexpected front matter key ${k}`);
  if (page.frontMatter.nct_id !== nctId) problems.push(`nct_id is ${JSON.stringify(page.frontMatter.nct_id)}`);
  const [title, ...rest] = page.headings;
  if (!title?.startsWith('# ')) problems.push('the page does not start with its title heading');
  for (const h of rest) if (!SECTION.test(h)) problems.push(`stray heading ${JSON.stringify(h)}`);
  return problems;
}
