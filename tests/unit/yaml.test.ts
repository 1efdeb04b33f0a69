import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { yamlDate, yamlQuoted, yamlScalar } from '../../src/mirror/yaml.js';

const VERSIONS = ['1.1', '1.2'] as const;

function readBack(written: string, version: (typeof VERSIONS)[number]): unknown {
  return (parse(`key: ${written}\nnext: 1\n`, { version }) as { key: unknown }).key;
}

const HOSTILE = [
  'Phase 2: "A" #1 --- test',
  '- leading dash', '-', '* star', '& anchor', '! tag', '% directive', '@ at', '`tick`', '? question',
  '| pipe', '> folded', "'single'", '"double"', '{ flow }', '[bracket]', ', comma', '# hash', ': colon',
  'key: value', 'ends with colon:', 'text #comment', 'a:b#c', ' leading space', 'trailing space ',
  '---', '--- start', '...', '... end', 'line\nbreak', 'two\n\nlines', '\n', 'tab\there', '\ttab',
  'bell\x07', 'nul\0', 'esc\x1b', 'del\x7f', 'nel\u0085', 'ls\u2028ps\u2029', 'bom\ufeff', 'c1\x9b',
  'back\\slash', '\\', 'Lariboisière Cognitive Assessment', 'EndeavorRx® «quoted»', '日本語 試験', '😀 emoji',
  'yes', 'No', 'ON', 'off', 'y', 'N', 'true', 'False', 'null', 'Null', '~', '<<', '=',
  '1.0', '1', '-1', '+1', '0x1F', '0o17', '017', '0b101', '1_000', '1e3', '.5', '.inf', '-.inf', '.NaN',
  '190:20:30', '2010-12-02', '2010-12-02 10:00:00', '2010-12-02T10:00:00Z', '2010-12', '12 Years',
  'Carlos III Health Institute, Hospital Universitario', 'PHASE1, PHASE2', 'surrogate\ud800',
];

describe('yamlScalar', () => {
  it.each(HOSTILE)('reads back as exactly the same string in YAML 1.1 and 1.2: %j', (value) => {
    for (const version of VERSIONS) expect(readBack(yamlScalar(value), version)).toBe(value);
  });

  it('writes ordinary text, golden values and non-ASCII plain', () => {
    for (const value of [
      'Clinical Trial on the Use of Autologous Bone Marrow Stem Cells in Amyotrophic Lateral Sclerosis',
      'PHASE1, PHASE2',
      'ClinicalTrials.gov (mirrored, no enrichment)',
      'Diógenes Foundation',
      'NCT00855400',
      'Spain, Germany',
      '12 Years',
    ]) {
      expect(yamlScalar(value)).toBe(value);
    }
  });

  it('quotes the golden hostile title and escapes the quotes inside it', () => {
    expect(yamlScalar('Phase 2: "A" #1 --- test')).toBe('"Phase 2: \\"A\\" #1 --- test"');
  });

  it('writes the empty string as ""', () => {
    expect(yamlScalar('')).toBe('""');
    for (const version of VERSIONS) expect(readBack(yamlScalar(''), version)).toBe('');
  });

  it('keeps escaped output on one line and readable', () => {
    expect(yamlScalar('a\nb')).toBe('"a\\nb"');
    expect(yamlScalar('é: x')).toBe('"é: x"');
    expect(yamlScalar('x\u2028y')).toBe('"x\\u2028y"');
  });

  it('round-trips random strings built from YAML-significant characters', () => {
    const alphabet = [...' -:#"\'\\\n\t?|>!&*%@`{}[],.~0123456789eEyYnN_+abé\u0085\u2028\x00\x1b\ufeff'];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      let value = '';
      const length = next() % 8;
      for (let j = 0; j < length; j++) value += alphabet[next() % alphabet.length];
      for (const version of VERSIONS) expect(readBack(yamlScalar(value), version), JSON.stringify(value)).toBe(value);
    }
  });
});

describe('yamlQuoted', () => {
  it('always double-quotes', () => {
    expect(yamlQuoted('https://clinicaltrials.gov/study/NCT00855400')).toBe('"https://clinicaltrials.gov/study/NCT00855400"');
  });
});

describe('yamlDate', () => {
  it('writes a CT.gov date plain, which YAML 1.1 reads as that day and YAML 1.2 as the string', () => {
    expect(yamlDate('2010-12-02')).toBe('2010-12-02');
    expect(readBack('2010-12-02', '1.2')).toBe('2010-12-02');
    const asDate = readBack('2010-12-02', '1.1');
    expect(asDate).toBeInstanceOf(Date);
    expect((asDate as Date).toISOString()).toBe('2010-12-02T00:00:00.000Z');
  });

  it('writes a partial date plain, read back as the string', () => {
    expect(yamlDate('2010-12')).toBe('2010-12');
    for (const version of VERSIONS) expect(readBack('2010-12', version)).toBe('2010-12');
  });

  it('falls back to yamlScalar for anything that is not a date', () => {
    expect(yamlDate('December 2, 2010')).toBe('December 2, 2010');
    expect(yamlDate('2010-12-02: x')).toBe('"2010-12-02: x"');
  });
});
