/**
 * The latency histogram APM Server indexes as `transaction.duration.histogram`: an HDR histogram
 * of microseconds with 2 significant figures, 1 µs .. 1 h (elastic/apm-aggregation
 * aggregators/internal/hdrhistogram/hdrhistogram.go). Only the bucketing is needed here: a value
 * is reported as the highest value equivalent to it (256 sub-buckets per power of two), counts are
 * kept ×1000 so fractional representative counts add up, and rounded when read.
 */

const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 7; // ceil(log2(2 * 10^2)) - 1
const SUB_BUCKET_MASK = 255; // (2 * 2^7) - 1, unit magnitude 0
const COUNT_SCALE = 1000;
/** countsLen in apm-aggregation: (bucketCount 25 + 1) * 128; values whose index falls beyond are not recorded. */
const COUNTS_LEN = 26 * 128;

const bitLength = (v: number): number => {
  const hi = Math.floor(v / 2 ** 32);
  return hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(v >>> 0);
};

/** The bucket a value (µs, ≥ 0) falls in: its counts index and the value the bucket reports. */
export function hdrBucket(us: number): { index: number; value: number } | null {
  const v = Math.max(0, Math.trunc(us));
  const bucketIdx = bitLength(v | SUB_BUCKET_MASK) - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
  const subBucketIdx = Math.floor(v / 2 ** bucketIdx);
  const index = ((bucketIdx + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + subBucketIdx - 128;
  if (index < 0 || index >= COUNTS_LEN) return null;
  const lowest = subBucketIdx * 2 ** bucketIdx;
  return { index, value: lowest + 2 ** bucketIdx - 1 };
}

export interface HistogramBuckets {
  total: number;
  values: number[];
  counts: number[];
}

export class DurationHistogram {
  /** counts index → [reported value, scaled count] */
  private readonly buckets = new Map<number, [number, number]>();

  /** RecordDuration(d, n): d in µs (truncated), n the representative count. */
  record(us: number, representativeCount: number): void {
    const bucket = hdrBucket(us);
    if (!bucket) return; // apm-aggregation drops values it cannot track (> ~71 min)
    const scaled = Math.round(representativeCount * COUNT_SCALE);
    const cur = this.buckets.get(bucket.index);
    if (cur) cur[1] += scaled;
    else this.buckets.set(bucket.index, [bucket.value, scaled]);
  }

  merge(other: DurationHistogram): void {
    for (const [index, [value, scaled]] of other.buckets) {
      const cur = this.buckets.get(index);
      if (cur) cur[1] += scaled;
      else this.buckets.set(index, [value, scaled]);
    }
  }

  /** Buckets(): ascending values with their counts (scaled back and rounded), and the total. */
  read(): HistogramBuckets {
    const out: HistogramBuckets = { total: 0, values: [], counts: [] };
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      const [value, scaled] = this.buckets.get(index) ?? [0, 0];
      if (scaled <= 0) continue;
      const count = Math.round(scaled / COUNT_SCALE);
      out.values.push(value);
      out.counts.push(count);
      out.total += count;
    }
    return out;
  }
}
