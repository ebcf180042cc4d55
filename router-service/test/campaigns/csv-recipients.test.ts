import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readRecipients, rowKey, type RecipientRow } from '../../src/campaigns/csv-recipients';
import { CsvRejected } from '../../src/errors';

const campaign = { channel: 'sms' as const, subject: null, body: 'Hi {{name}}, code {{code}}' };

async function read(text: string | Buffer, opts: { maxBytes?: number; batchSize?: number } = {}) {
  const batches: RecipientRow[][] = [];
  const result = await readRecipients(Readable.from([Buffer.from(text)]), campaign, async (rows) => { batches.push(rows); }, { maxBytes: opts.maxBytes ?? 1e6, batchSize: opts.batchSize });
  return { ...result, batches };
}

test('line numbers are file lines (BOM, quoted newlines and blank lines included); params are the other columns', async () => {
  const csv = '\uFEFFphone,name,code\n+14155550100,Ann,1\n\n+14155550101,"Bob\nJr",2\n+1415,Cy,3\n';
  const r = await read(csv);
  assert.equal(r.rows, 3);
  assert.equal(r.valid, 2);
  assert.deepEqual(r.rejected.map((x) => x.line), [6]);
  assert.match(r.rejected[0]!.reason, /E\.164/);
  const rows = r.batches.flat();
  assert.deepEqual(rows.map((x) => x.line), [2, 5]);
  assert.deepEqual(rows[1]!.params, { name: 'Bob\nJr', code: '2' });
});

test('a wrong field count, an empty placeholder value and a missing address are row errors with reasons', async () => {
  const r = await read('to,name,code\n+14155550100,Ann\n+14155550101,,2\n,Cy,3\n');
  assert.deepEqual(r.rejected, [
    { line: 2, reason: 'expected 3 fields, found 2' },
    { line: 3, reason: 'empty value for {{name}}' },
    { line: 4, reason: 'missing to' },
  ]);
});

test('the row key depends on recipient and values only, not on column order or line', () => {
  assert.equal(rowKey('+1', null, { a: '1', b: '2' }), rowKey('+1', null, { b: '2', a: '1' }));
  assert.notEqual(rowKey('+1', null, { a: '1' }), rowKey('+1', null, { a: '2' }));
  assert.notEqual(rowKey('+1', 'u1', { a: '1' }), rowKey('+1', null, { a: '1' }));
});

test('valid rows reach the store in batches; an oversized file is refused whole', async () => {
  const lines = ['phone,name,code', ...Array.from({ length: 25 }, (_, i) => `+1415555${String(1000 + i)},N${i},${i}`)];
  const r = await read(`${lines.join('\n')}\n`, { batchSize: 10 });
  assert.deepEqual(r.batches.map((b) => b.length), [10, 10, 5]);
  await assert.rejects(read(`${lines.join('\n')}\n`, { maxBytes: 100 }), (err: unknown) => err instanceof CsvRejected && /larger than/.test(err.detail ?? ''));
  await assert.rejects(read(''), CsvRejected);
});
