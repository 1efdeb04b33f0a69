import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { catalogId, type Catalog } from './catalog.js';

/*
 * The catalog as a bulk download: one deflated `NCT….json` per study in a zip, like the
 * registry's JSON download that `import` reads. Streamed to disk entry by entry (a 100,000-study
 * zip is hundreds of MB). More than 65,535 entries need the zip64 end records; they are always
 * written, so that the small zips of the tests take the same path. Entry offsets stay 32-bit, so
 * the zip must stay below 4 GiB.
 */

export function writeBulkZip(path: string, catalog: Pick<Catalog, 'n' | 'json'>): { bytes: number; jsonBytes: number } {
  const fd = openSync(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let jsonBytes = 0;
  const write = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (let i = 0; i < catalog.n; i++) {
      const name = Buffer.from(`${catalogId(i)}.json`);
      const data = Buffer.from(catalog.json(i));
      // Level 1: reading it back costs the same as the default level, writing it far less.
      const packed = deflateRawSync(data, { level: 1 });
      const crc = crc32(data);
      jsonBytes += data.length;
      if (offset > 0xffffffff) throw new Error(`bulk zip: past 4 GiB at entry ${i}; use fewer studies`);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(8, 8); // deflate
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(packed.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      const entry = Buffer.alloc(46);
      entry.writeUInt32LE(0x02014b50, 0);
      entry.writeUInt16LE(20, 4);
      entry.writeUInt16LE(20, 6);
      entry.writeUInt16LE(8, 10);
      entry.writeUInt32LE(crc, 16);
      entry.writeUInt32LE(packed.length, 20);
      entry.writeUInt32LE(data.length, 24);
      entry.writeUInt16LE(name.length, 28);
      entry.writeUInt32LE(offset, 42);
      central.push(entry, name);
      write(local);
      write(name);
      write(packed);
    }
    const dirOffset = offset;
    const dir = Buffer.concat(central);
    write(dir);
    const count = BigInt(catalog.n);
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4); // size of the rest of the record
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(count, 24);
    record.writeBigUInt64LE(count, 32);
    record.writeBigUInt64LE(BigInt(dir.length), 40);
    record.writeBigUInt64LE(BigInt(dirOffset), 48);
    const recordOffset = offset;
    write(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(recordOffset), 8);
    locator.writeUInt32LE(1, 16);
    write(locator);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    // "See the zip64 record" for the count and the offset.
    end.writeUInt16LE(0xffff, 8);
    end.writeUInt16LE(0xffff, 10);
    end.writeUInt32LE(dir.length, 12);
    end.writeUInt32LE(0xffffffff, 16);
    write(end);
    return { bytes: offset, jsonBytes };
  } finally {
    closeSync(fd);
  }
}
