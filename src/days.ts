/** One day in milliseconds (UTC days: no daylight saving time in the arithmetic here). */
export const DAY_MS = 86_400_000;
