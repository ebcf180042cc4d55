import { sendRecordSchema, type Channel, type SendRecord } from '@ca/contracts';
import { MalformedRecordError } from '../errors';

/** Parses and validates a send record; a malformed one throws MalformedRecordError with the reason. */
export function parseSendRecord(value: Buffer | null, expectedChannel: Channel): SendRecord {
  if (!value || value.length === 0) throw new MalformedRecordError('empty record value');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    throw new MalformedRecordError('record value is not JSON');
  }
  const { value: record, error } = sendRecordSchema.validate(json, { abortEarly: false });
  if (error) throw new MalformedRecordError(`record does not match the send schema: ${error.details.map((d) => d.message).join('; ')}`);
  if (record.channel !== expectedChannel) {
    throw new MalformedRecordError(`record for channel ${record.channel} arrived on the ${expectedChannel} topic`);
  }
  return record;
}
