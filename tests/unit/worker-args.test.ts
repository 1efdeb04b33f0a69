import { describe, expect, it } from 'vitest';
import { parseResyncArgs } from '../../src/commands/resync.js';
import { InvalidNctIdError, UsageError } from '../../src/errors.js';
import { shiftDate, watermarkDate } from '../../src/sync/incrementalSync.js';

describe('parseResyncArgs', () => {
  it('canonicalises NCT IDs, or takes --all, with the reason', () => {
    expect(parseResyncArgs(['nct04437511', 'NCT00000001', 'NCT00000001'], { reason: 'why' })).toEqual({
      target: ['NCT04437511', 'NCT00000001'],
      reason: 'why',
    });
    expect(parseResyncArgs([], { all: true })).toEqual({ target: 'all', reason: null });
  });

  it('rejects bad IDs, no IDs, and IDs with --all', () => {
    expect(() => parseResyncArgs(['NCT00000001', '04437511'], {})).toThrow(InvalidNctIdError);
    expect(() => parseResyncArgs(['nct4437511'], {})).toThrow(InvalidNctIdError);
    expect(() => parseResyncArgs([], {})).toThrow(UsageError);
    expect(() => parseResyncArgs(['NCT00000001'], { all: true })).toThrow(UsageError);
  });
});

describe('incremental watermark dates', () => {
  it("takes the data's date, never later than the run's", () => {
    expect(watermarkDate('2026-10-20T09:00:00', new Date('2026-11-22T02:00:00Z'))).toBe('2026-10-20');
    expect(watermarkDate('2026-12-01T09:00:00', new Date('2026-11-22T02:00:00Z'))).toBe('2026-11-22');
    expect(watermarkDate('garbage', new Date('2026-11-22T02:00:00Z'))).toBe('2026-11-22');
  });

  it('shifts across month and year ends', () => {
    expect(shiftDate('2026-03-01', -2)).toBe('2026-02-27');
    expect(shiftDate('2027-01-01', -1)).toBe('2026-12-31');
  });
});
