import type pg from 'pg';
import { z } from 'zod';
import { parseNctIds } from '../ctgov/nctId.js';
import { enqueueResync } from './enqueueResync.js';

const bodySchema = z.union([
  z.strictObject({ ids: z.array(z.string()).min(1), reason: z.string().nullable().optional() }),
  z.strictObject({ all: z.literal(true), reason: z.string().nullable().optional() }),
]);

/** POST /resync: `{"ids": ["NCT…"], "reason": "…"}` or `{"all": true}`; queues and wakes the queue. */
export async function answerResync(pool: pg.Pool, body: unknown, wake: () => void): Promise<{ status: number; body: unknown }> {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) return { status: 400, body: { error: 'expected {"ids": ["NCT…"], "reason"?: "…"} or {"all": true, "reason"?: "…"}' } };
  let target;
  try {
    target = 'all' in parsed.data ? ('all' as const) : parseNctIds(parsed.data.ids);
  } catch (err) {
    return { status: 400, body: { error: (err as Error).message } };
  }
  const result = await enqueueResync(pool, target, parsed.data.reason ?? null);
  wake();
  return { status: 200, body: result };
}
