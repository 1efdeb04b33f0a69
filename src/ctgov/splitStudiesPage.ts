/*
 * A `/studies` page split into its studies' JSON texts without parsing it. The sync hashes each
 * record's text as it arrived (src/studies/rawHash.ts), parses only the records whose hash is not
 * the stored one, and stores those texts as new versions: an unchanged study is never parsed, and
 * no record is serialised again.
 *
 * The split only finds where each element of the top-level `studies` array begins and ends; it
 * validates nothing. The caller JSON.parses the envelope (the page with `[]` in place of the
 * array), and each study's text before its content is read (a text equal to one stored before
 * was parsed then). Anything unexpected (no `studies` array, two of them, unbalanced text)
 * returns undefined, and the caller parses the page whole.
 */
import { skipSpace, valueEnd, walkObject } from './jsonText.js';

export interface SplitPage {
  /** The page with `"studies":[]`: nextPageToken, totalCount and anything else CT.gov adds. */
  envelope: string;
  /** Each study's JSON text as bytes (views of the page's), in page order. */
  studies: Buffer[];
}

/** Splits a page's UTF-8 bytes; undefined when the page is not the expected `{…, "studies": […], …}`. */
export function splitStudiesPage(text: Buffer): SplitPage | undefined {
  let array: { open: number; close: number; studies: Buffer[] } | undefined;
  const end = walkObject(text, skipSpace(text, 0), (key, valueStart) => {
    if (key !== 'studies') return undefined;
    // A repeated key means JSON.parse would keep the last one: not worth a second code path.
    if (array) return -1;
    array = splitArray(text, valueStart);
    return array ? array.close + 1 : -1;
  });
  if (!array || end < 0 || skipSpace(text, end) !== text.length) return undefined;
  const envelope = text.toString('utf8', 0, array.open + 1) + text.toString('utf8', array.close);
  return { envelope, studies: array.studies };
}

const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The array whose `[` is at `open`: where it closes and each element's text. */
function splitArray(text: Buffer, open: number): { open: number; close: number; studies: Buffer[] } | undefined {
  if (text[open] !== OPEN_BRACKET) return undefined;
  const studies: Buffer[] = [];
  let i = skipSpace(text, open + 1);
  if (text[i] === CLOSE_BRACKET) return { open, close: i, studies };
  for (;;) {
    const end = valueEnd(text, i);
    if (end < 0) return undefined;
    studies.push(text.subarray(i, end));
    i = skipSpace(text, end);
    if (text[i] === CLOSE_BRACKET) return { open, close: i, studies };
    if (text[i] !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
  }
}
