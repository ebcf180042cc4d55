import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { sendMessageSchema, type Channel } from '@ca/contracts';
import { CsvRejected } from '../errors';
import { placeholders, render } from './render';

/** A row that passed validation, ready to store. */
export interface RecipientRow {
  line: number;
  rowKey: string;
  to: string;
  userId: string | null;
  params: Record<string, string>;
}

export interface RowRejection {
  line: number;
  reason: string;
}

export const MAX_ROWS = 100_000;
const MAX_FIELD = 4096;

/** Which header names hold the address for each channel (`to` always does). */
const ADDRESS_COLUMNS: Record<Channel, readonly string[]> = {
  email: ['to', 'email'],
  sms: ['to', 'phone', 'msisdn'],
  whatsapp: ['to', 'phone', 'whatsapp'],
  push: ['to', 'token', 'devicetoken'],
};

/**
 * The identity of a row within a campaign: who and with what parameters. Uploading the same file
 * again yields the same keys, which the (campaign, row_key) primary key turns into "already there".
 */
export function rowKey(to: string, userId: string | null, params: Record<string, string>): string {
  const canonical = JSON.stringify([to, userId, Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1))]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Reads a recipients CSV as a stream (csv-parse): a header row, then one recipient per row. Each row
 * is checked exactly as POST /v1/messages would check the message it becomes (address format, the
 * rendered subject and body); a bad row is reported with its line number and the rest go on.
 * Whole-file problems (no header, no address column, a placeholder with no column) refuse the file.
 * `onRows` receives valid rows in batches so a large file is never held in memory whole.
 */
export async function readRecipients(
  input: Readable,
  campaign: { channel: Channel; subject: string | null; body: string },
  onRows: (rows: RecipientRow[]) => Promise<void>,
  opts: { maxBytes: number; batchSize?: number },
): Promise<{ rows: number; valid: number; rejected: RowRejection[] }> {
  const batchSize = opts.batchSize ?? 1000;
  let bytes = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(bytes > opts.maxBytes ? new CsvRejected(`The file is larger than ${Math.round(opts.maxBytes / 1024 / 1024)} MB`) : null, chunk);
    },
  });
  const parser = parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true, max_record_size: 64 * 1024 });
  input.on('error', (err) => parser.destroy(err));
  limiter.on('error', (err) => parser.destroy(err));
  input.pipe(limiter).pipe(parser);
  let header: string[] | null = null;
  let addressIndex = -1;
  let userIdIndex = -1;
  const needed = placeholders(campaign.subject, campaign.body);
  const rejected: RowRejection[] = [];
  let batch: RecipientRow[] = [];
  let rows = 0;
  let valid = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        const lower = header.map((h) => h.toLowerCase());
        addressIndex = lower.findIndex((h) => ADDRESS_COLUMNS[campaign.channel].includes(h));
        userIdIndex = lower.indexOf('userid');
        if (addressIndex < 0) {
          throw new CsvRejected(`The header row needs an address column for ${campaign.channel}: one of ${ADDRESS_COLUMNS[campaign.channel].join(', ')}` +
            (userIdIndex >= 0 ? ' (userId alone cannot be resolved to an address: this system has no recipient directory)' : ''));
        }
        const missing = needed.filter((p) => !header!.includes(p));
        if (missing.length) throw new CsvRejected(`The message uses ${missing.map((m) => `{{${m}}}`).join(', ')} but the file has no column named ${missing.join(', ')}`);
        continue;
      }
      rows++;
      if (rows > MAX_ROWS) throw new CsvRejected(`At most ${MAX_ROWS} recipients per file`);
      const line = info.lines;
      const reason = checkRow(record, header, addressIndex, needed, campaign);
      if (typeof reason === 'string') {
        rejected.push({ line, reason });
        continue;
      }
      const to = record[addressIndex]!;
      const userId = userIdIndex >= 0 ? record[userIdIndex] || null : null;
      batch.push({ line, to, userId, params: reason, rowKey: rowKey(to, userId, reason) });
      valid++;
      if (batch.length >= batchSize) {
        await onRows(batch);
        batch = [];
      }
    }
  } catch (err) {
    if (err instanceof CsvRejected) throw err;
    const e = err as { code?: string; message?: string; lines?: number };
    // csv-parse's own errors (an unclosed quote, a record over the size limit) make the rest unreadable.
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) throw new CsvRejected(`The file is not valid CSV near line ${e.lines ?? '?'}: ${e.code}`);
    throw err;
  }
  if (!header) throw new CsvRejected('The file is empty: it needs a header row and one row per recipient');
  if (batch.length) await onRows(batch);
  return { rows, valid, rejected };
}

/** The row's parameters when it is good, else why not. */
function checkRow(record: string[], header: string[], addressIndex: number, needed: string[], campaign: { channel: Channel; subject: string | null; body: string }): Record<string, string> | string {
  if (record.length !== header.length) return `expected ${header.length} fields, found ${record.length}`;
  const to = record[addressIndex] ?? '';
  if (!to) return `missing ${header[addressIndex]}`;
  if (record.some((f) => f.length > MAX_FIELD)) return `a field is longer than ${MAX_FIELD} characters`;
  const params: Record<string, string> = {};
  header.forEach((name, i) => { if (i !== addressIndex) params[name] = record[i] ?? ''; });
  const empty = needed.filter((p) => !params[p]);
  if (empty.length) return `empty value for ${empty.map((p) => `{{${p}}}`).join(', ')}`;
  const message = {
    channel: campaign.channel, to, body: render(campaign.body, params),
    ...(campaign.subject !== null ? { subject: render(campaign.subject, params) } : {}),
  };
  const { error } = sendMessageSchema.validate(message, { abortEarly: false });
  if (error) return error.details.map((d) => d.message).join('; ');
  return params;
}
