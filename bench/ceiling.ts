import pg from 'pg';
import { catalogId, type Catalog } from './catalog.js';

/*
 * The ceiling: the same raw documents bulk-inserted into a bare JSONB table (primary key on the
 * NCT ID, nothing else), one transaction per batch. COPY on a server; multi-row INSERT on the
 * embedded database, whose socket does not speak COPY. Only the database's time counts: each
 * batch is built before its clock starts, so this is how fast the machine can store them.
 */

const BATCH = 500;

export interface CeilingResult {
  seconds: number;
  method: 'copy' | 'insert';
}

export async function measureCeiling(url: string, catalog: Catalog, method: 'copy' | 'insert'): Promise<CeilingResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create schema if not exists bench');
    await client.query('drop table if exists bench.ceiling');
    await client.query('create table bench.ceiling (nct_id text primary key, raw jsonb not null)');
    let seconds = 0;
    for (let start = 0; start < catalog.n; start += BATCH) {
      const rows: Array<[string, string]> = [];
      for (let i = start; i < Math.min(catalog.n, start + BATCH); i++) rows.push([catalogId(i), catalog.json(i)]);
      const send = method === 'copy' ? copyBatch(client, rows) : insertBatch(client, rows);
      const t0 = performance.now();
      await send();
      seconds += (performance.now() - t0) / 1000;
    }
    await client.query('drop schema bench cascade');
    return { seconds, method };
  } finally {
    await client.end();
  }
}

function insertBatch(client: pg.Client, rows: Array<[string, string]>): () => Promise<void> {
  const ids = rows.map((r) => r[0]);
  const docs = rows.map((r) => r[1]);
  return async () => {
    await client.query('insert into bench.ceiling (nct_id, raw) select * from unnest($1::text[], $2::jsonb[])', [ids, docs]);
  };
}

// COPY text format: a backslash is the escape character; minified JSON has no raw tabs or newlines.
function copyBatch(client: pg.Client, rows: Array<[string, string]>): () => Promise<void> {
  const data = Buffer.from(rows.map(([id, doc]) => `${id}\t${doc.replaceAll('\\', '\\\\')}\n`).join(''));
  return () => new Promise<void>((resolve, reject) => {
    client.query(new CopyFromBuffer('copy bench.ceiling (nct_id, raw) from stdin', data, (err) => (err ? reject(err) : resolve())));
  });
}

/** COPY … FROM STDIN fed from one buffer (pg's Query answers a copy-in with a failure by default). */
class CopyFromBuffer extends pg.Query {
  readonly #data: Buffer;
  constructor(text: string, data: Buffer, callback: (err: Error | undefined) => void) {
    super(text, undefined, callback);
    this.#data = data;
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.#data);
    connection.endCopyFrom();
  }
}
