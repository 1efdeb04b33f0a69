import { describe, expect, it } from 'vitest';
import { diffRows } from '../../src/web/valueDiff.js';
import { html } from '../../src/web/html.js';

const text = (h: { text: string }) => h.text;

describe('diffRows', () => {
  it('marks the removed words on the left and the added words on the right', () => {
    const [row] = diffRows([{ path: 'eligibility.criteria', kind: 'changed', oldValue: 'Adults aged 18 to 65 years', newValue: 'Adults aged 18 to 75 years' }]);
    expect(row!.mode).toBe('text');
    expect(text(row!.before)).toBe('<span class="text">Adults aged 18 to <del>65</del> years</span>');
    expect(text(row!.after)).toBe('<span class="text">Adults aged 18 to <ins>75</ins> years</span>');
  });

  it('shows one-word values before and after', () => {
    const [row] = diffRows([{ path: 'status.overallStatus', kind: 'changed', oldValue: 'RECRUITING', newValue: 'COMPLETED' }]);
    expect(row).toMatchObject({ mode: 'scalar' });
    expect(text(row!.before)).toBe('<del>RECRUITING</del>');
    expect(text(row!.after)).toBe('<ins>COMPLETED</ins>');
  });

  it('compares lists as sets and word-diffs an edited item with the one it replaced', () => {
    const [row] = diffRows([
      { path: 'conditions.conditions', kind: 'changed', oldValue: ['Diabetes', 'Type 2 diabetes mellitus'], newValue: ['Diabetes', 'Type 1 diabetes mellitus', 'Obesity'] },
    ]);
    expect(row!.mode).toBe('set');
    expect(text(row!.before)).toContain('<del>2</del>');
    expect(text(row!.after)).toContain('<ins>1</ins>');
    expect(text(row!.after)).toContain('<li><ins>Obesity</ins></li>');
    expect(text(row!.before)).toContain('1 unchanged item');
  });

  it('gathers the sites into one row of sites added and removed', () => {
    const rows = diffRows([
      { path: 'locations.a|x||spain', kind: 'added', oldValue: null, newValue: { facility: 'A', city: 'X', country: 'Spain', status: 'RECRUITING' } },
      { path: 'locations.b|y||france', kind: 'removed', oldValue: { facility: 'B', city: 'Y', country: 'France' }, newValue: null },
      { path: 'design.enrollmentCount', kind: 'changed', oldValue: 100, newValue: 120 },
    ]);
    expect(rows.map((r) => r.label)).toEqual(['design.enrollmentCount', 'sites (1 added, 1 removed, 0 changed)']);
    expect(text(rows[1]!.after)).toContain('<ins>A, X, Spain (RECRUITING)</ins>');
    expect(text(rows[1]!.before)).toContain('<del>B, Y, France</del>');
  });

  it('escapes every value it shows', () => {
    const rows = diffRows([
      { path: 'identification.briefTitle', kind: 'changed', oldValue: '<b>old</b> "x"', newValue: '<script>alert(1)</script> & more' },
      { path: 'locations.z', kind: 'added', oldValue: null, newValue: { facility: '<img src=x onerror=alert(1)>' } },
    ]);
    const all = rows.map((r) => text(r.before) + text(r.after)).join('');
    expect(all).not.toMatch(/<(script|img|b)[\s>]/);
    // With the diff's own markup taken out, what is left is the escaped text.
    const stripped = all.replace(/<\/?(del|ins|span|ul|li)( class="[a-z]+")?>/g, '');
    expect(stripped).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(stripped).toContain('&lt;b&gt;old&lt;/b&gt; &quot;x&quot;');
    expect(all).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('html', () => {
  it('escapes interpolated text and attribute values but not nested templates', () => {
    const inner = html`<em>${'a & b'}</em>`;
    expect(html`<a title="${`"'><`}">${inner}${null}${undefined}${['<', html`<i>`]}</a>`.text).toBe(
      '<a title="&quot;&#39;&gt;&lt;"><em>a &amp; b</em>&lt;<i></a>',
    );
  });
});
