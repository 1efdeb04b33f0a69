import { describe, expect, it } from 'vitest';
import { encodeCursor, FilterError, filterParams, parseChangeQuery } from '../../src/web/changeFilters.js';
import { pathPattern } from '../../src/webhooks/hookMatch.js';

const parse = (qs: string) => parseChangeQuery(new URLSearchParams(qs));

describe('parseChangeQuery', () => {
  it('reads every filter, the limit and the cursor', () => {
    const cursor = encodeCursor({ detectedAt: '2026-11-21 06:00:00+00', id: 42 });
    const q = parse(`path=status.*&kind=changed&source=history&since=2026-11-01&until=2026-11-21&nct=nct01949129&q=stem+cells&limit=10&cursor=${cursor}`);
    expect(q).toEqual({
      filters: {
        path: 'status.*',
        kind: 'changed',
        source: 'history',
        since: new Date('2026-11-01T00:00:00Z'),
        sinceText: '2026-11-01',
        until: new Date('2026-11-22T00:00:00Z'), // the whole day of 2026-11-21
        untilText: '2026-11-21',
        nct: 'NCT01949129',
        q: 'stem cells',
      },
      limit: 10,
      cursor: { detectedAt: '2026-11-21 06:00:00+00', id: 42 },
    });
    expect(filterParams(q.filters, { limit: 10 }).toString()).toBe('path=status.*&kind=changed&source=history&since=2026-11-01&until=2026-11-21&nct=NCT01949129&q=stem+cells&limit=10');
  });

  it('treats empty parameters as absent (an empty form field)', () => {
    expect(parse('path=&kind=&since=&q=')).toEqual({ filters: {}, limit: 50 });
  });

  it.each([
    ['kind=moved', 'kind: expected added, changed or removed'],
    ['path=status.*.x', 'path: expected a field path'],
    ['path=%25', 'path: expected a field path'],
    ['since=last week', 'since: expected a date'],
    ['until=2026-13-45', 'until: expected a date'],
    ['limit=0', 'limit: expected a whole number from 1 to 1000'],
    ['limit=1e3', 'limit: expected a whole number'],
    ['cursor=bm90IGEgY3Vyc29y', 'cursor: not a cursor'],
    ['nct=XYZ1', 'nct: expected an NCT ID'],
    ['kind=added&kind=removed', 'parameter kind is given 2 times'],
    ['source=all', 'source: expected live or history'],
  ])('rejects %s', (qs, reason) => {
    expect(() => parse(qs)).toThrow(FilterError);
    expect(() => parse(qs)).toThrow(reason);
  });
});

describe('pathPattern', () => {
  it('turns a prefix into LIKE and keeps LIKE wildcards in names literal', () => {
    expect(pathPattern('status.*')).toBe('status.%');
    expect(pathPattern('status.overallStatus')).toBe('status.overallStatus');
    expect(pathPattern('locations.a_b%c')).toBe('locations.a\\_b\\%c');
  });
});
