import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationHistogram, hdrBucket } from '../../src/aggregate/hdr-histogram';

// Expected values worked out from apm-aggregation's hdrhistogram.go (2 significant figures,
// unit magnitude 0, sub-bucket half count magnitude 7, 25 buckets): a value reports as
// (v >> b << b) + 2^b - 1 where b = bitLength(v | 255) - 8.
test('bucket values: exact below 256 µs, then 2 significant figures', () => {
  const cases: Array<[number, number]> = [
    [0, 0], [1, 1], [255, 255], [256, 257], [257, 257], [1000, 1003], [20_000, 20_095], [35_000, 35_071],
    [1_000_000, 1_003_519], [3_600_000_000, 3_607_101_439], [2 ** 32 - 1, 2 ** 32 - 1],
  ];
  for (const [us, value] of cases) assert.equal(hdrBucket(us)?.value, value, `${us} µs`);
  assert.equal(hdrBucket(2 ** 32), null, 'beyond the last bucket is not recorded');
});

test('counts are scaled by the representative count and rounded when read; values ascend', () => {
  const h = new DurationHistogram();
  h.record(35_000, 1);
  h.record(20_000, 2.5);
  h.record(20_050, 1);
  h.record(2 ** 40, 1);
  assert.deepEqual(h.read(), { total: 5, values: [20_095, 35_071], counts: [4, 1] });
  const other = new DurationHistogram();
  other.record(35_070, 1);
  h.merge(other);
  assert.deepEqual(h.read().counts, [4, 2]);
});
