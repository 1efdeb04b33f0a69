import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { mirrorTarget } from '../../src/pipeline/mirrorTarget.js';

describe('mirror.profile', () => {
  it('is golden by default, with the full profile\'s table bounds', () => {
    const target = mirrorTarget(loadConfig({}));
    expect(target.profile).toBe('golden');
    expect(target.limits).toEqual({ maxTableRows: 25, maxTableColumns: 8 });
    // The golden renderer's settings carry nothing of the profile.
    expect(Object.keys(target.settings)).not.toContain('profile');
  });

  it('is set by MIRROR_PROFILE', () => {
    expect(mirrorTarget(loadConfig({ MIRROR_PROFILE: 'full' })).profile).toBe('full');
  });

  it('rejects an unknown profile, naming the variable', () => {
    let caught: unknown;
    try {
      loadConfig({ MIRROR_PROFILE: 'fancy' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).key).toBe('MIRROR_PROFILE');
    expect((caught as Error).message).toMatch(/golden.*full|full.*golden/);
  });
});
