import { PayloadTooLargeError } from '../errors';

/**
 * Collects a stream's chunks up to `maxBytes`, charging each chunk to `charge` (the ingest gate,
 * which may throw) before keeping it. Shared by the raw body read and Content-Encoding inflation, so
 * both stop at the same limit with the same error.
 */
export function boundedChunks(maxBytes: number, charge: (bytes: number) => void) {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    /** Keeps `chunk`, or returns why the stream must stop (413, or what `charge` threw). */
    add(chunk: Buffer): Error | null {
      size += chunk.length;
      if (size > maxBytes) return new PayloadTooLargeError(maxBytes);
      try {
        charge(chunk.length);
      } catch (err) {
        return err as Error;
      }
      chunks.push(chunk);
      return null;
    },
    concat: (): Buffer => Buffer.concat(chunks, size),
  };
}
