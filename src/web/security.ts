import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '../errors.js';

/**
 * Headers on every page and feed: no framing, no script at all (there is none), styles from this
 * origin only, no content sniffing, no referrer leaking study IDs elsewhere.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A worker listening beyond this machine without a token would publish the whole history: refuse to start. */
export function assertHttpAuth(http: { host: string; authToken: string | null }): void {
  if (!isLoopbackHost(http.host) && http.authToken === null) {
    throw new ConfigError('http.authToken', `required (or HTTP_AUTH_TOKEN) when http.host is ${http.host}, not a loopback address`);
  }
}

/**
 * `Authorization: Bearer <token>`, or Basic with the token as password (any user name), which lets
 * a browser ask for it. Compared in constant time.
 */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^(Bearer|Basic)\s+(\S+)$/i.exec(header);
  if (!m) return false;
  let given = m[2]!;
  if (m[1]!.toLowerCase() === 'basic') {
    const decoded = Buffer.from(given, 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
