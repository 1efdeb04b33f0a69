import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipChunkSize, gunzipWhole } from '../../src/ctgov/gunzip.js';

describe('gunzipWhole', () => {
  const page = Buffer.from(JSON.stringify({ studies: Array.from({ length: 3000 }, (_, i) => ({ nctId: `NCT${String(i).padStart(8, '0')}`, title: 'Étude ≥ 65 ans 😀' })) }));

  it('sizes its output from the gzip trailer: the whole body, one buffer of that size', async () => {
    const gz = gzipSync(page);
    expect(gunzipChunkSize(gz)).toBe(page.length + 1);
    const out = await gunzipWhole(gz);
    expect(out.equals(page)).toBe(true);
    // One chunk: the result is a view of the one output buffer (a byte longer than the body),
    // not a buffer the size of the body that 16 kB chunks were copied into.
    expect(out.buffer.byteLength).toBe(page.length + 1);
  });

  it('inflates empty, tiny and multi-member bodies whole', async () => {
    expect((await gunzipWhole(gzipSync(Buffer.alloc(0)))).length).toBe(0);
    expect((await gunzipWhole(gzipSync(Buffer.from('{}')))).toString()).toBe('{}');
    // Two members: the trailer states the last one's size; zlib adds chunks for the rest.
    const two = Buffer.concat([gzipSync(page), gzipSync(Buffer.from('tail'))]);
    expect((await gunzipWhole(two)).equals(Buffer.concat([page, Buffer.from('tail')]))).toBe(true);
  });

  it('fails a body whose trailer states another length, and bounds what a trailer can ask for', async () => {
    const gz = gzipSync(page);
    const lying = Buffer.from(gz);
    lying.writeUInt32LE(0xfffffff0, lying.length - 4);
    expect(gunzipChunkSize(lying)).toBe(64 * 2 ** 20);
    await expect(gunzipWhole(lying)).rejects.toThrow(/incorrect length check/);
    expect(gunzipChunkSize(Buffer.from([0x1f, 0x8b]))).toBe(16 * 1024);
  });
});
