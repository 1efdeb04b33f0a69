import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { parseNctId } from './ctgov/nctId.js';
import { ConfigError } from './errors.js';
import { packageRoot } from './paths.js';
import { isPlainObject } from './isPlainObject.js';

const cronExpr = z.string().refine((s) => cron.validate(s), { message: 'expected a valid cron expression' });
const positiveInt = z.number().int().positive();
const nctIdString = z.string().refine(
  (s) => {
    try {
      parseNctId(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an NCT ID (NCT followed by 8 digits)' },
);

const webhookSchema = z.strictObject({
  name: z.string().min(1).optional(),
  url: z.url({ protocol: /^https?$/ }),
  secret: z.string().min(16, { message: 'expected a secret of at least 16 characters' }),
  /** Field paths or prefixes (`status.*`); all paths when absent. */
  paths: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]*(\.\*)?$|^\*$/, { message: 'expected a field path or a prefix such as status.*' })).min(1).optional(),
  nctIds: z.array(nctIdString).min(1).optional(),
  kinds: z.array(z.enum(['added', 'changed', 'removed'])).min(1).optional(),
});

const configSchema = z.strictObject({
  database: z.strictObject({
    url: z.string().refine(isDatabaseUrl, { message: 'expected a postgres:// or postgresql:// URL' }).nullable(),
    dataDir: z.string().min(1),
    poolSize: positiveInt.max(100),
    statementTimeoutMs: z.number().int().min(0),
  }),
  ctgov: z.strictObject({
    baseUrl: z.url({ protocol: /^https?$/ }),
    historyUrl: z.url({ protocol: /^https?$/ }).nullable(),
    rateLimitPerMinute: positiveInt,
    concurrency: positiveInt.max(64),
    idBatchSize: positiveInt.max(1000),
    pageSize: positiveInt.max(1000),
    timeoutMs: positiveInt,
    userAgent: z.string().min(1),
    retry: z.strictObject({
      maxAttempts: positiveInt.max(20),
      baseDelayMs: z.number().int().min(0),
      maxDelayMs: z.number().int().min(0),
      runBudget: z.number().int().min(0),
    }),
  }),
  watchlist: z.strictObject({
    ids: z.array(nctIdString),
    queries: z.array(z.string().min(1)),
  }),
  schedules: z.strictObject({
    timezone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as UTC or Europe/Paris' }),
    incremental: cronExpr,
    discover: cronExpr,
    refresh: cronExpr,
    mirror: cronExpr,
    backfill: cronExpr,
  }),
  backfill: z.strictObject({
    enabled: z.boolean(),
    batchSize: positiveInt,
  }),
  sync: z.strictObject({
    storeBatchSize: positiveInt.max(5000),
    incrementalOverlapDays: z.number().int().min(0),
    refreshBatchSize: positiveInt,
    shutdownTimeoutMs: positiveInt,
    queuePollMs: positiveInt,
    maxQueryStudies: positiveInt,
  }),
  mirror: z.strictObject({
    enabled: z.boolean(),
    dir: z.string().min(1),
    canonicalBaseUrl: z.string(),
    ctgovStudyBaseUrl: z.string().min(1),
    sourceLabel: z.string(),
    footerNote: z.string(),
    recentChangeDays: positiveInt,
    mirroredPaths: z.array(z.string().min(1)),
    maxChangeLinesPerPath: positiveInt,
    profile: z.enum(['golden', 'full']),
    maxTableRows: positiveInt,
    maxTableColumns: z.number().int().min(2),
  }),
  http: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    authToken: z.string().min(16, { message: 'expected a token of at least 16 characters' }).nullable(),
  }),
  webhooks: z.array(webhookSchema).refine((hooks) => new Set(hooks.map((h) => h.name ?? h.url)).size === hooks.length, {
    message: 'expected each webhook to have a distinct name (or url)',
  }),
  webhookDelivery: z.strictObject({
    maxAttempts: positiveInt.max(100),
    baseDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
    timeoutMs: positiveInt,
    pollMs: positiveInt,
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    pretty: z.boolean({ error: 'expected 1, true, 0 or false' }).nullable(),
  }),
});

export type Config = z.infer<typeof configSchema>;

type Env = Record<string, string | undefined>;

/** Environment variables that override configuration keys (part of the public contract). */
const ENV_KEYS: Record<string, { path: string[]; parse: (v: string) => unknown }> = {
  DATABASE_URL: { path: ['database', 'url'], parse: (v) => v },
  DATA_DIR: { path: ['database', 'dataDir'], parse: (v) => v },
  CTGOV_BASE_URL: { path: ['ctgov', 'baseUrl'], parse: (v) => v },
  CTGOV_HISTORY_URL: { path: ['ctgov', 'historyUrl'], parse: (v) => v },
  MIRROR_DIR: { path: ['mirror', 'dir'], parse: (v) => v },
  MIRROR_PROFILE: { path: ['mirror', 'profile'], parse: (v) => v },
  LOG_LEVEL: { path: ['log', 'level'], parse: (v) => v },
  LOG_PRETTY: { path: ['log', 'pretty'], parse: parseFlag },
  HTTP_PORT: { path: ['http', 'port'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
  HTTP_HOST: { path: ['http', 'host'], parse: (v) => v },
  HTTP_AUTH_TOKEN: { path: ['http', 'authToken'], parse: (v) => v },
  WATCHLIST: { path: ['watchlist', 'ids'], parse: (v) => v.split(',').map((s) => s.trim()).filter(Boolean) },
};

/**
 * Reads config/default.json, then the JSON file named by CONFIG_FILE (deep-merged), then the
 * environment variables above. Validated once; a bad value throws ConfigError naming the key
 * (or the environment variable that supplied it).
 */
export function loadConfig(env: Env = process.env): Config {
  let merged = readJson(defaultConfigPath(), 'config/default.json');
  const file = env.CONFIG_FILE;
  if (file) merged = deepMerge(merged, readJson(resolve(file), `CONFIG_FILE (${file})`));
  const sources = new Map<string, string>();
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(merged, spec.path, spec.parse(raw));
    sources.set(spec.path.join('.'), name);
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.map(String).join('.');
    const topKey = issue.path.slice(0, 2).map(String).join('.');
    const named = sources.get(key) ?? sources.get(topKey) ?? (key || '(root)');
    throw new ConfigError(named, describeIssue(issue));
  }
  return result.data;
}

/** `1`/`true` or `0`/`false` (any case); anything else is left as text for validation to reject. */
function parseFlag(v: string): unknown {
  const lower = v.trim().toLowerCase();
  if (lower === '1' || lower === 'true') return true;
  if (lower === '0' || lower === 'false') return false;
  return v;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  return issue.message;
}

function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.json');
}

function readJson(path: string, label: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(label, `cannot read file: ${(err as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (!isPlainObject(value)) throw new Error('expected a JSON object');
    return value;
  } catch (err) {
    throw new ConfigError(label, `not valid JSON: ${(err as Error).message}`);
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

// What node-postgres reads as a connection string: a URL (or `socket:/path`); anything else it
// half-parses into a host name such as "base", and the error would not say what was wrong.
function isDatabaseUrl(value: string): boolean {
  try {
    return ['postgres:', 'postgresql:', 'socket:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
