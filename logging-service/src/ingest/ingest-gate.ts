/**
 * Bounds what the intake holds in memory, so a flood of exports (or a backed-up store) turns into
 * fast 429s for the senders instead of unbounded memory here. Two bounds:
 *  - bytes: every byte a request holds counts, from the first byte read off the socket, through the
 *    decompressed body, to the parse tree of a JSON body (see otlp-router.ts), until it is answered;
 *  - exports: a slot is taken only once the body is fully read, so a slow upload holds a few bytes
 *    and no slot, and cannot starve exporters that send at normal speed.
 */
export interface IngestGate {
  /** A new, empty account for one request. */
  open(): IngestHold;
  readonly inFlight: number;
  readonly heldBytes: number;
}

export interface IngestHold {
  /** Counts `bytes` more (negative: fewer); false (nothing counted) when that would pass the byte bound. */
  add(bytes: number): boolean;
  /** Takes an export slot; false when every slot is taken. */
  admit(): boolean;
  /** Gives back the slot and every byte; safe to call twice. */
  release(): void;
}

export function createIngestGate(limits: { maxInFlight: number; maxInFlightBytes: number }): IngestGate {
  let slots = 0;
  let bytes = 0;
  return {
    open() {
      let own = 0;
      let admitted = false;
      let released = false;
      return {
        add(n) {
          if (released) return false;
          // One export larger than the bound still gets through when it is all that is held.
          if (n > 0 && bytes + n > limits.maxInFlightBytes && bytes !== own) return false;
          own += n;
          bytes += n;
          return true;
        },
        admit() {
          if (released || admitted) return admitted;
          if (slots >= limits.maxInFlight) return false;
          slots += 1;
          admitted = true;
          return true;
        },
        release() {
          if (released) return;
          released = true;
          bytes -= own;
          own = 0;
          if (admitted) slots -= 1;
        },
      };
    },
    get inFlight() {
      return slots;
    },
    get heldBytes() {
      return bytes;
    },
  };
}
