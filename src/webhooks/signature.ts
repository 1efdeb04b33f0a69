import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-ctgov-sync-signature';

/** `sha256=` and the hex HMAC-SHA256 of the exact body bytes under the hook's secret. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
