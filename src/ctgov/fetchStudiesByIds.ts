import { FetchError } from '../errors.js';
import type { ClientContext } from './clientContext.js';
import { canonicalOrUndefined, lookupStudy } from './lookupStudy.js';
import type { NctId } from './nctId.js';
import { orderedConcurrent } from './orderedConcurrent.js';
import { recordIdentity, withStudies, type RawRecord } from './rawRecord.js';
import { peekNctId } from './schema.js';
import { iterateStudyPages } from './studyPages.js';

/** One batch of requested IDs and what became of each. */
export interface IdBatch {
  requested: NctId[];
  /**
   * The canonical studies, each once: as cut out of the pages (see StudiesPageResult), or parsed,
   * for a record read on its own (an alias, an ID the list did not answer).
   */
  records: RawRecord[];
  /** The records parsed (on first use: the sync reads `records`). */
  readonly studies: unknown[];
  /** CT.gov has no such study (404): removed, or never existed. */
  notFound: NctId[];
  /** The requested ID was merged into `canonical`, whose record is in `studies`. */
  aliases: { requested: NctId; canonical: NctId }[];
  /** CT.gov rejected the ID itself (400), with its message. */
  invalid: { nctId: string; message: string }[];
  /** CT.gov answered for `requested` with a record that has no readable nctId (to quarantine). */
  malformed: { requested: NctId; raw: unknown }[];
}

/**
 * Fetches studies by ID with `/studies?filter.ids=…`, idBatchSize IDs per request and up to
 * `concurrency` batches ahead of the consumer, yielding batches in order. Memory stays bounded
 * by concurrency × batch size however many IDs are asked for.
 */
export async function* fetchStudiesByIds(
  ctx: ClientContext,
  ids: readonly NctId[],
  signal?: AbortSignal,
): AsyncGenerator<IdBatch> {
  const unique = [...new Set(ids)];
  const batches: NctId[][] = [];
  for (let i = 0; i < unique.length; i += ctx.idBatchSize) batches.push(unique.slice(i, i + ctx.idBatchSize));
  // An alias in one batch and its canonical ID in another must not yield the record twice.
  const yielded = new Set<string>();
  for await (const batch of orderedConcurrent(batches, ctx.concurrency, (b, s) => fetchBatch(ctx, b, s), signal)) {
    batch.records = batch.records.filter((record) => {
      const id = recordIdentity(record).nctId ?? '';
      if (yielded.has(id)) return false;
      yielded.add(id);
      return true;
    });
    yield withStudies(batch);
  }
}

/** A batch as it is collected, before its `studies` list is added. */
type CollectedBatch = Omit<IdBatch, 'studies'>;

async function fetchBatch(ctx: ClientContext, ids: NctId[], signal: AbortSignal): Promise<CollectedBatch> {
  const batch: CollectedBatch = { requested: ids, records: [], notFound: [], aliases: [], invalid: [], malformed: [] };
  await fetchIdsSplitting(ctx, ids, new Collector(batch), signal);
  return batch;
}

/**
 * One malformed ID makes CT.gov reject the whole list with 400: halve until it is isolated.
 * (414, URI too long, is halved the same way: each half is a shorter URL.)
 */
async function fetchIdsSplitting(ctx: ClientContext, ids: NctId[], out: Collector, signal: AbortSignal): Promise<void> {
  const records: RawRecord[] = [];
  try {
    const params = { 'filter.ids': ids.join(','), pageSize: String(ctx.pageSize) };
    for await (const page of iterateStudyPages(ctx, params, signal)) {
      records.push(...page.records);
    }
  } catch (err) {
    if (!(err instanceof FetchError) || (err.status !== 400 && err.status !== 414)) throw err;
    if (ids.length === 1) {
      out.batch.invalid.push({ nctId: ids[0]!, message: err.bodyExcerpt ?? err.message });
      return;
    }
    ctx.logger.debug({ ids: ids.length, body: err.bodyExcerpt }, 'splitBatch');
    const half = Math.ceil(ids.length / 2);
    await Promise.all([fetchIdsSplitting(ctx, ids.slice(0, half), out, signal), fetchIdsSplitting(ctx, ids.slice(half), out, signal)]);
    return;
  }
  const missing = out.match(ids, records);
  if (missing.length > 0) ctx.logger.debug({ missing: missing.length }, 'resolveMissingIds');
  await Promise.all(missing.map((id) => resolveOne(ctx, id, out, signal)));
}

/** An ID the list query did not return: removed (404), an alias (301), or a bad ID (400). */
async function resolveOne(ctx: ClientContext, id: NctId, out: Collector, signal: AbortSignal): Promise<void> {
  const found = await lookupStudy(ctx, id, signal);
  switch (found.kind) {
    case 'notFound':
      out.batch.notFound.push(id);
      return;
    case 'invalid':
      out.batch.invalid.push({ nctId: id, message: found.message });
      return;
    case 'alias':
      out.batch.aliases.push({ requested: id, canonical: found.canonical });
      out.addStudy(found.canonical, { raw: found.raw });
      return;
    case 'found':
      if (canonicalOrUndefined(peekNctId(found.raw))) out.addStudy(id, { raw: found.raw });
      else out.batch.malformed.push({ requested: id, raw: found.raw });
  }
}

class Collector {
  readonly #ids = new Set<NctId>();
  constructor(readonly batch: CollectedBatch) {}

  addStudy(id: NctId, record: RawRecord): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    this.batch.records.push(record);
  }

  /**
   * Pairs returned records with requested IDs; returns the IDs left unanswered. filter.ids also
   * matches aliases, so a record whose nctIdAliases holds a requested ID answers for it. Records
   * without a readable nctId are skipped: the ID they answer for is then unanswered and is looked
   * up on its own, which recovers them under a known ID.
   */
  match(ids: NctId[], records: readonly RawRecord[]): NctId[] {
    const wanted = new Set(ids);
    const answered = new Set<NctId>();
    for (const record of records) {
      const identity = recordIdentity(record);
      const id = canonicalOrUndefined(identity.nctId);
      if (!id) continue;
      this.addStudy(id, record);
      if (wanted.has(id)) answered.add(id);
      for (const alias of identity.aliases.map(canonicalOrUndefined)) {
        if (alias && alias !== id && wanted.has(alias) && !answered.has(alias)) {
          answered.add(alias);
          this.batch.aliases.push({ requested: alias, canonical: id });
        }
      }
    }
    return ids.filter((id) => !answered.has(id));
  }
}
