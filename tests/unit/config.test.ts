import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctgov-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function expectConfigError(env: Record<string, string>, key: string | RegExp, pattern: RegExp): void {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  if (typeof key === 'string') expect((caught as ConfigError).key).toBe(key);
  else expect((caught as ConfigError).key).toMatch(key);
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as Error).message).not.toContain('\n');
}

describe('loadConfig', () => {
  it('loads the checked-in defaults with the documented values', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeNull();
    expect(config.database.dataDir).toBe('./data');
    expect(config.ctgov.baseUrl).toBe('https://clinicaltrials.gov/api/v2');
    expect(config.ctgov.rateLimitPerMinute).toBe(50);
    expect(config.ctgov.idBatchSize).toBe(200);
    expect(config.mirror.dir).toBe('./mirror');
    expect(config.watchlist.ids).toEqual(['NCT00855400', 'NCT02286011']);
  });

  it('lets environment variables override the file and the defaults', () => {
    const file = configFile({ ctgov: { rateLimitPerMinute: 10 }, mirror: { dir: '/from/file' } });
    const config = loadConfig({
      CONFIG_FILE: file,
      DATABASE_URL: 'postgres://u:p@db/x',
      DATA_DIR: '/tmp/d',
      CTGOV_BASE_URL: 'http://127.0.0.1:9999/api/v2',
      MIRROR_DIR: '/from/env',
      LOG_LEVEL: 'debug',
      HTTP_PORT: '8080',
      WATCHLIST: 'NCT00000410, NCT00162175',
    });
    expect(config.ctgov.rateLimitPerMinute).toBe(10);
    expect(config.mirror.dir).toBe('/from/env');
    expect(config.database.url).toBe('postgres://u:p@db/x');
    expect(config.database.dataDir).toBe('/tmp/d');
    expect(config.ctgov.baseUrl).toBe('http://127.0.0.1:9999/api/v2');
    expect(config.log.level).toBe('debug');
    expect(config.http.port).toBe(8080);
    expect(config.watchlist.ids).toEqual(['NCT00000410', 'NCT00162175']);
    // Untouched keys keep their defaults after the merge.
    expect(config.ctgov.idBatchSize).toBe(200);
  });

  it('rejects a bad cron expression, naming the key', () => {
    expectConfigError({ CONFIG_FILE: configFile({ schedules: { refresh: '61 * * * *' } }) }, 'schedules.refresh', /cron/);
  });

  it('rejects a negative rate limit, naming the key', () => {
    expectConfigError({ CONFIG_FILE: configFile({ ctgov: { rateLimitPerMinute: -1 } }) }, 'ctgov.rateLimitPerMinute', />0/);
  });

  it('names the environment variable that supplied a bad value', () => {
    expectConfigError({ HTTP_PORT: 'eighty' }, 'HTTP_PORT', /number/);
    expectConfigError({ WATCHLIST: 'NCT00855400,../etc/passwd' }, 'WATCHLIST', /NCT ID/);
    expectConfigError({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /expected one of/i);
    expectConfigError({ CTGOV_BASE_URL: 'ftp://x' }, 'CTGOV_BASE_URL', /url/i);
  });

  it('rejects unknown keys, an unknown time zone and unreadable files', () => {
    expectConfigError({ CONFIG_FILE: configFile({ ctgov: { rateLimit: 5 } }) }, 'ctgov', /unknown key.*rateLimit/);
    expectConfigError({ CONFIG_FILE: configFile({ schedules: { timezone: 'Mars/Olympus' } }) }, 'schedules.timezone', /time zone/);
    expectConfigError({ CONFIG_FILE: configFile('{not json') }, /^CONFIG_FILE/, /not valid JSON/);
    expectConfigError({ CONFIG_FILE: '/nonexistent/ctgov.json' }, /^CONFIG_FILE/, /cannot read/);
  });
});
