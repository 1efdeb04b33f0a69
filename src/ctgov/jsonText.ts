/*
 * Reading JSON text, as UTF-8 bytes, without parsing it: where a value ends, where an object's
 * member is. Nothing here validates. A caller either JSON.parses what it cuts out, or compares it
 * by hash with text that was parsed and validated before (an unchanged study is never parsed
 * again). Bytes, not strings: a page is cut into its studies before anything is decoded, and an
 * unchanged study's bytes are hashed as they are, never decoded.
 */

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Where a member's value is: from its first byte to just past its last. */
export interface Member {
  valueStart: number;
  valueEnd: number;
}

/**
 * Walks the members of the object whose `{` is at `open`, handing `visit` each key and where its
 * value starts. `visit` returns undefined to have the value skipped, the index just past the
 * value when it read the value itself, or a negative number to stop the walk (which then returns
 * that number). Returns the index just past the object's `}`, or -1 when the text is not an
 * object there or breaks off.
 */
export function walkObject(text: Buffer, open: number, visit: (key: string, valueStart: number) => number | undefined): number {
  if (text[open] !== OPEN_BRACE) return -1;
  let i = skipSpace(text, open + 1);
  if (text[i] === CLOSE_BRACE) return i + 1;
  for (;;) {
    if (text[i] !== QUOTE) return -1;
    const keyStart = i;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return -1;
    i = skipSpace(text, keyEnd);
    if (text[i] !== COLON) return -1;
    const valueStart = skipSpace(text, i + 1);
    // A key with escapes is compared as written: such a key never matches a plain name.
    const read = visit(text.toString('utf8', keyStart + 1, keyEnd - 1), valueStart);
    const end = read ?? valueEnd(text, valueStart);
    if (end < 0) return end;
    i = skipSpace(text, end);
    const c = text[i];
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) return -1;
    i = skipSpace(text, i + 1);
  }
}

/**
 * The value at `path` (object keys, from the top-level object), as the first member of each name
 * on the way: JSON.parse would take the last of repeated keys, which CT.gov never sends.
 * Undefined when a step is missing or not an object. Only what comes before each step's member
 * is read: finding the identification module reads a few hundred bytes of a record.
 */
export function memberAt(text: Buffer, path: readonly string[]): Member | undefined {
  let start = skipSpace(text, 0);
  for (const name of path) {
    let found = -1;
    walkObject(text, start, (key, valueStart) => {
      if (key !== name) return undefined;
      found = valueStart;
      return STOP;
    });
    if (found < 0) return undefined;
    start = found;
  }
  const end = valueEnd(text, start);
  return end < 0 ? undefined : { valueStart: start, valueEnd: end };
}

const STOP = -2;

/** The index just past the value starting at `i` (not validated: JSON.parse does that); -1 if it never ends. */
export function valueEnd(text: Buffer, i: number): number {
  const first = text[i]!;
  if (first === QUOTE) return stringEnd(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (const n = text.length; i < n; i++) {
      const c = text[i]!;
      if (c === QUOTE) {
        i = stringEnd(text, i) - 1;
        if (i < 0) return -1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  while (j < text.length && !isDelimiter(text[j]!)) j++;
  return j > i ? j : -1;
}

/**
 * The index just past the string whose opening quote is at `i`; -1 if it never closes. Past its
 * first bytes, it jumps from quote to quote (most of a record's text is inside long strings): a
 * quote closes the string unless an odd number of backslashes precedes it.
 */
export function stringEnd(text: Buffer, i: number): number {
  // Keys and most values are short: read them byte by byte; jump through long text from quote to quote.
  const near = Math.min(text.length, i + 64);
  for (let j = i + 1; j < near; j++) {
    const c = text[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  for (let q = text.indexOf(QUOTE, near); q >= 0; q = text.indexOf(QUOTE, q + 1)) {
    let k = q - 1;
    while (text[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
  }
  return -1;
}

export function skipSpace(text: Buffer, i: number): number {
  while (i < text.length && isSpace(text[i]!)) i++;
  return i;
}

/** JSON's four whitespace characters. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDelimiter(c: number): boolean {
  return isSpace(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET;
}
