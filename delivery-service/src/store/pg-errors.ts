/**
 * SQLSTATE classes that mean "this row's data is unacceptable", not "the database is unavailable":
 * 22 data exception (NUL in text 22021, invalid uuid text 22P02, bad JSON escape 22P05, ...) and
 * 23 integrity constraint violation. A record refused this way is the record's fault: it is
 * dead-lettered. Anything else (connection refused, timeout, 57P01 admin shutdown, 53xxx) is an
 * outage: the partition stops and the record is read again later.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** Deadlock or serialization failure between two batches: running the batch again is safe. */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isRetryableConflict(err)) throw err;
    }
  }
}
