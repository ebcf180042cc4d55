/**
 * Bounds the exports being decoded, translated and written at once, by count and by bytes, so a
 * backed-up store turns into fast 429s for the senders instead of unbounded memory here.
 */
export interface IngestGate {
  /** A release function, or null when taking `bytes` would exceed a bound. */
  tryAcquire(bytes: number): (() => void) | null;
  readonly inFlight: number;
  readonly inFlightBytes: number;
}

export function createIngestGate(limits: { maxInFlight: number; maxInFlightBytes: number }): IngestGate {
  let count = 0;
  let bytes = 0;
  return {
    tryAcquire(size) {
      // A single export larger than the byte bound still gets through when nothing else runs.
      if (count >= limits.maxInFlight || (count > 0 && bytes + size > limits.maxInFlightBytes)) return null;
      count += 1;
      bytes += size;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        count -= 1;
        bytes -= size;
      };
    },
    get inFlight() {
      return count;
    },
    get inFlightBytes() {
      return bytes;
    },
  };
}
