/**
 * YAML scalars for the mirror's front matter. Values come from CT.gov (titles, sponsors, …) and
 * may hold anything, so each one is written plain only when both YAML 1.2 and YAML 1.1 parsers
 * (front-matter consumers use either) read it back as exactly the same string; otherwise it is
 * double-quoted, which can carry any string.
 */

// Resolve to null, booleans or merge/value keys in YAML 1.1 or 1.2 instead of a string.
const KEYWORD =
  /^(?:~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|<<|=)$/;
// Every YAML 1.1/1.2 number form (ints, floats, hex, octal, binary, sexagesimal, .inf, .nan) is
// made of these characters after an optional sign; quoting the whole family is simpler than
// copying each resolver and costs only a few harmless quotes (e.g. `3D`).
const NUMBER_LIKE = /^[-+]?[.0-9][-+0-9A-Za-z_.:]*$/;
// YAML 1.1 timestamps (`2001-12-14`, `2001-12-14 21:59:43.10 -5`) start like this.
const TIMESTAMP_LIKE = /^\d{4}-\d\d?-\d\d?(?:$|[Tt \t])/;
// A leading indicator character starts some other YAML construct (or a directive/comment).
const LEADING_INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;
// `: ` ends a key and ` #` starts a comment anywhere in a plain scalar; a trailing `:` too.
const INNER_INDICATOR = /: |:$| #/;
// Plain scalars may only hold printable characters and no line breaks. YAML 1.1 also breaks
// lines at NEL, LS and PS, and a BOM is never content, so those are excluded as well.
const NOT_PLAIN_SAFE = /[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

export function yamlScalar(value: string): string {
  return isPlainSafe(value) ? value : yamlQuoted(value);
}

/**
 * A date as given by CT.gov (`2010-12-02`, or partial `2010-12`) is written plain, as the golden
 * page does, so YAML consumers read a full date as a date; anything else falls back to yamlScalar.
 */
export function yamlDate(value: string): string {
  return /^\d{4}-\d{2}(?:-\d{2})?$/.test(value) ? value : yamlScalar(value);
}

/** Always double-quoted (URLs and instants, where the golden page quotes). */
export function yamlQuoted(value: string): string {
  // Nothing to escape (the common case: URLs, instants): every character stands for itself.
  if (!NOT_PLAIN_SAFE.test(value) && !value.includes('"') && !value.includes('\\')) return `"${value}"`;
  let out = '"';
  for (const ch of value) out += escapeChar(ch);
  return out + '"';
}

function isPlainSafe(value: string): boolean {
  return (
    value !== '' &&
    value.trim() === value &&
    !KEYWORD.test(value) &&
    !NUMBER_LIKE.test(value) &&
    !TIMESTAMP_LIKE.test(value) &&
    !LEADING_INDICATOR.test(value) &&
    !INNER_INDICATOR.test(value) &&
    !value.startsWith('---') &&
    !value.startsWith('...') &&
    !NOT_PLAIN_SAFE.test(value)
  );
}

const NAMED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\0': '\\0',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
};

// Only escapes both YAML 1.1 and 1.2 define (\x, \u, \U and the named ones above); printable
// non-ASCII text (é, ü, ®) stays as it is so the front matter remains readable.
function escapeChar(ch: string): string {
  const named = NAMED_ESCAPES[ch];
  if (named !== undefined) return named;
  if (!NOT_PLAIN_SAFE.test(ch)) return ch;
  const code = ch.codePointAt(0)!;
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\U${hex(code, 8)}`;
}

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}
