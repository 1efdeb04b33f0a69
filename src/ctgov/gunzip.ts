import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** zlib's own output chunk, for a body too short to have a trailer. */
const MIN_CHUNK = 16 * 1024;
/** A page of 1,000 large records is tens of MB; past this, zlib adds chunks as it needs them. */
const MAX_CHUNK = 64 * 2 ** 20;

/**
 * The output chunk for gunzipping `gz` whole: the size its gzip trailer states (ISIZE, the
 * uncompressed length mod 2^32) plus one byte, so zlib inflates the body into one buffer in one
 * pass, where its default 16 kB chunks cost a 6 MB page 400 trips to the thread pool and a copy
 * of them all into one buffer at the end. zlib checks ISIZE against what it inflated, so a
 * trailer that lies fails the body as corrupt; and the value only ever sizes a buffer, within
 * these bounds.
 */
export function gunzipChunkSize(gz: Buffer): number {
  if (gz.length < 18) return MIN_CHUNK;
  return Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, gz.readUInt32LE(gz.length - 4) + 1));
}

/** A whole gzip body, inflated off the main thread into (usually) one buffer. */
export function gunzipWhole(gz: Buffer): Promise<Buffer> {
  return gunzipAsync(gz, { chunkSize: gunzipChunkSize(gz) });
}
