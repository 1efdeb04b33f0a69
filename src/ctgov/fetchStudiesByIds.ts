import { FetchError } from '../errors.js';
import type { ClientContext } from './clientContext.js';
import { canonicalOrUndefined, lookupStudy } from './lookupStudy.js';
import type { NctId } from './nctId.js';
import { orderedConcurrent } from './orderedConcurrent.js';
import { peekNctId, peekNctIdAliases } from './schema.js';
import { iterateStudyPages } from './studyPages.js';

/** One batch of requested IDs and what became of each. */
export interface IdBatch {
  requested: NctId[];
  /** Raw records as parsed JSON (canonical studies, each once). */
  studies: unknown[];
  /**
   * Parallel to `studies`: each record's JSON text as CT.gov sent it (see StudiesPageResult),
   * undefined for a record read on its own (an alias, an ID the list did not answer).
   */
  texts: (string | undefined)[];
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
    const keep = batch.studies.map((raw) => {
      const id = peekNctId(raw) ?? '';
      if (yielded.has(id)) return false;
      yielded.add(id);
      return true;
    });
    batch.studies = batch.studies.filter((_, i) => keep[i]);
    batch.texts = batch.texts.filter((_, i) => keep[i]);
    yield batch;
  }
}

async function fetchBatch(ctx: ClientContext, ids: NctId[], signal: AbortSignal): Promise<IdBatch> {
  const batch: IdBatch = { requested: ids, studies: [], texts: [], notFound: [], aliases: [], invalid: [], malformed: [] };
  await fetchIdsSplitting(ctx, ids, new Collector(batch), signal);
  return batch;
}

/**
 * One malformed ID makes CT.gov reject the whole list with 400: halve until it is isolated.
 * (414, URI too long, is halved the same way: each half is a shorter URL.)
 */
async function fetchIdsSplitting(ctx: ClientContext, ids: NctId[], out: Collector, signal: AbortSignal): Promise<void> {
  const records: Array<{ raw: unknown; text: string | undefined }> = [];
  try {
    const params = { 'filter.ids': ids.join(','), pageSize: String(ctx.pageSize) };
    for await (const page of iterateStudyPages(ctx, params, signal)) {
      page.studies.forEach((raw, i) => records.push({ raw, text: page.texts?.[i] }));
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
      out.addStudy(found.canonical, found.raw);
      return;
    case 'found':
      if (canonicalOrUndefined(peekNctId(found.raw))) out.addStudy(id, found.raw);
      else out.batch.malformed.push({ requested: id, raw: found.raw });
  }
}

class Collector {
  readonly #ids = new Set<NctId>();
  constructor(readonly batch: IdBatch) {}

  addStudy(id: NctId, raw: unknown, text?: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    this.batch.studies.push(raw);
    this.batch.texts.push(text);
  }

  /**
   * Pairs returned records with requested IDs; returns the IDs left unanswered. filter.ids also
   * matches aliases, so a record whose nctIdAliases holds a requested ID answers for it. Records
   * without a readable nctId are skipped: the ID they answer for is then unanswered and is looked
   * up on its own, which recovers them under a known ID.
   */
  match(ids: NctId[], records: ReadonlyArray<{ raw: unknown; text: string | undefined }>): NctId[] {
    const wanted = new Set(ids);
    const answered = new Set<NctId>();
    for (const { raw, text } of records) {
      const id = canonicalOrUndefined(peekNctId(raw));
      if (!id) continue;
      this.addStudy(id, raw, text);
      if (wanted.has(id)) answered.add(id);
      for (const alias of peekNctIdAliases(raw).map(canonicalOrUndefined)) {
        if (alias && alias !== id && wanted.has(alias) && !answered.has(alias)) {
          answered.add(alias);
          this.batch.aliases.push({ requested: alias, canonical: id });
        }
      }
    }
    return ids.filter((id) => !answered.has(id));
  }
}
