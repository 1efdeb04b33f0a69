/** The synthetic catalog's NCT IDs (NCT8xxxxxxx): study i is catalogId(i). */
const FIRST_ID = 80_000_000;

export function catalogId(i: number): string {
  return `NCT${FIRST_ID + i}`;
}

export function catalogIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => catalogId(i));
}

/** The filter.ids URLs the client sends for these IDs in batches of `batchSize`. */
export function idBatchUrls(baseUrl: string, ids: readonly string[], batchSize: number, pageSize = 1000): string[] {
  const urls: string[] = [];
  for (let i = 0; i < ids.length; i += batchSize) {
    urls.push(`${baseUrl}/studies?filter.ids=${ids.slice(i, i + batchSize).join(',')}&pageSize=${pageSize}`);
  }
  return urls;
}
