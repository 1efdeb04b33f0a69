/*
 * A `/studies` page split into its studies' JSON texts without parsing it first. The sync hashes
 * each record's text as it arrived (src/studies/rawHash.ts) and stores it as a new version: with
 * the text of each study in hand, a record is never serialised again just to be hashed.
 *
 * The split only finds where each element of the top-level `studies` array begins and ends; it
 * validates nothing. The caller JSON.parses every piece and the envelope (the page with `[]` in
 * place of the array): when all of them parse, the page as a whole is valid JSON with the same
 * value, since a valid value was put back where `[]` stood. Anything unexpected (no `studies`
 * array, two of them, unbalanced text) returns undefined, and the caller parses the page whole.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** `"studies"` as bytes: the only key looked for. */
const STUDIES_KEY = Buffer.from('"studies"');

export interface SplitPage {
  /** The page with `"studies":[]`: nextPageToken, totalCount and anything else CT.gov adds. */
  envelope: string;
  /** Each study's JSON text, in page order. */
  studies: string[];
}

/** Splits a page's UTF-8 bytes; undefined when the page is not the expected `{…, "studies": […], …}`. */
export function splitStudiesPage(body: Uint8Array): SplitPage | undefined {
  const n = body.length;
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(body, i + 1);
  let array: { open: number; close: number; elements: number[] } | undefined;
  if (body[i] !== CLOSE_BRACE) {
    for (;;) {
      if (body[i] !== QUOTE) return undefined;
      const keyEnd = stringEnd(body, i);
      if (keyEnd < 0) return undefined;
      const isStudies = keyEnd - i === STUDIES_KEY.length && STUDIES_KEY.equals(body.subarray(i, keyEnd));
      i = skipSpace(body, keyEnd);
      if (body[i] !== COLON) return undefined;
      i = skipSpace(body, i + 1);
      if (isStudies) {
        // A repeated key means JSON.parse would keep the last one: not worth a second code path.
        if (array || body[i] !== OPEN_BRACKET) return undefined;
        array = splitArray(body, i);
        if (!array) return undefined;
        i = array.close + 1;
      } else {
        i = valueEnd(body, i);
        if (i < 0) return undefined;
      }
      i = skipSpace(body, i);
      if (body[i] === COMMA) i = skipSpace(body, i + 1);
      else if (body[i] === CLOSE_BRACE) break;
      else return undefined;
    }
  }
  if (!array || skipSpace(body, i + 1) !== n) return undefined;
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const studies: string[] = [];
  for (let k = 0; k < array.elements.length; k += 2) studies.push(buf.toString('utf8', array.elements[k], array.elements[k + 1]));
  const envelope = buf.toString('utf8', 0, array.open + 1) + buf.toString('utf8', array.close, n);
  return { envelope, studies };
}

/** The array starting at `open`: where it closes and each element's [start, end) byte offsets. */
function splitArray(body: Uint8Array, open: number): { open: number; close: number; elements: number[] } | undefined {
  const elements: number[] = [];
  let i = skipSpace(body, open + 1);
  if (body[i] === CLOSE_BRACKET) return { open, close: i, elements };
  for (;;) {
    const end = valueEnd(body, i);
    if (end < 0) return undefined;
    elements.push(i, end);
    i = skipSpace(body, end);
    if (body[i] === CLOSE_BRACKET) return { open, close: i, elements };
    if (body[i] !== COMMA) return undefined;
    i = skipSpace(body, i + 1);
  }
}

/** The offset just past the value starting at `i` (not validated: JSON.parse does that); -1 if it never ends. */
function valueEnd(body: Uint8Array, i: number): number {
  const first = body[i];
  if (first === QUOTE) return stringEnd(body, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (const n = body.length; i < n; i++) {
      const c = body[i]!;
      if (c === QUOTE) {
        i = stringEnd(body, i) - 1;
        if (i < 0) return -1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < body.length && !isDelimiter(body[j]!)) j++;
  return j > i ? j : -1;
}

/** The offset just past the string whose opening quote is at `i`; -1 if it never closes. */
function stringEnd(body: Uint8Array, i: number): number {
  for (let j = i + 1, n = body.length; j < n; j++) {
    const c = body[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  return -1;
}

function skipSpace(body: Uint8Array, i: number): number {
  while (i < body.length && isSpace(body[i]!)) i++;
  return i;
}

/** JSON's four whitespace characters. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDelimiter(c: number): boolean {
  return isSpace(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET;
}
