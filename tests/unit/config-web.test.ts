import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { webhookMatches } from '../../src/webhooks/hookMatch.js';

function withFile(content: unknown): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'ctgov-config-web-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(content));
  return { CONFIG_FILE: path };
}

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('web and webhook configuration', () => {
  it('defaults to no token, no hooks and bounded retries', () => {
    const c = loadConfig({});
    expect(c.http.authToken).toBeNull();
    expect(c.webhooks).toEqual([]);
    expect(c.webhookDelivery).toEqual({ maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 600000, timeoutMs: 10000, pollMs: 2000 });
  });

  it('takes the token from HTTP_AUTH_TOKEN and refuses a short one', () => {
    expect(loadConfig({ HTTP_AUTH_TOKEN: 'sixteen-chars-ok' }).http.authToken).toBe('sixteen-chars-ok');
    const err = errorOf({ HTTP_AUTH_TOKEN: 'short' });
    expect(err.key).toBe('HTTP_AUTH_TOKEN');
    expect(err.message).toMatch(/at least 16 characters/);
  });

  it('reads hooks with their filters', () => {
    const hook = { name: 'h', url: 'https://example.org/hook', secret: 'a-secret-of-16-chars', paths: ['status.*'], nctIds: ['NCT01949129'], kinds: ['changed'] };
    expect(loadConfig(withFile({ webhooks: [hook] })).webhooks).toEqual([hook]);
  });

  it.each([
    [{ url: 'ftp://example.org/x', secret: 'a-secret-of-16-chars' }, 'webhooks.0.url', /./],
    [{ url: 'https://example.org/x', secret: 'short' }, 'webhooks.0.secret', /at least 16 characters/],
    [{ url: 'https://example.org/x', secret: 'a-secret-of-16-chars', paths: ['status.*; drop'] }, 'webhooks.0.paths.0', /field path or a prefix/],
    [{ url: 'https://example.org/x', secret: 'a-secret-of-16-chars', kinds: ['moved'] }, 'webhooks.0.kinds.0', /./],
    [{ url: 'https://example.org/x', secret: 'a-secret-of-16-chars', nctIds: ['NCTX'] }, 'webhooks.0.nctIds.0', /NCT ID/],
    [{ url: 'https://example.org/x', secret: 'a-secret-of-16-chars', extra: 1 }, 'webhooks.0', /unknown key\(s\) extra/],
  ])('names the bad key of hook %j', (hook, key, message) => {
    const err = errorOf(withFile({ webhooks: [hook] }));
    expect(err.key).toBe(key);
    expect(err.message).toMatch(message);
  });

  it('matches NCT IDs in the forms the configuration accepts (any case), and refuses short ones', () => {
    const hook = { url: 'https://example.org/x', secret: 'a-secret-of-16-chars', nctIds: ['nct01949129'] };
    expect(webhookMatches(loadConfig(withFile({ webhooks: [hook] })).webhooks)[0]!.nctIds).toEqual(['NCT01949129']);
    const short = errorOf(withFile({ webhooks: [{ ...hook, nctIds: ['nct1949129'] }] }));
    expect(short.key).toBe('webhooks.0.nctIds.0');
  });

  it('refuses two hooks under one name', () => {
    const hook = { url: 'https://example.org/x', secret: 'a-secret-of-16-chars' };
    const err = errorOf(withFile({ webhooks: [hook, hook] }));
    expect(err.key).toBe('webhooks');
    expect(err.message).toMatch(/distinct name/);
  });
});
