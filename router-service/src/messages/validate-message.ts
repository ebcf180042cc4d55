import { ATTR, SPAN, sendMessageSchema, unsafeKeyPaths, type SendMessageRequest } from '@ca/contracts';
import { inSpan } from '@ca/telemetry';
import { ValidationFailed, type FieldError } from '../errors';
import { isRealDate } from './schedule';

/**
 * Validates a POST /v1/messages body, reporting every invalid field at once (unknown fields
 * included). Returns the body with defaults applied (priority). An invalid body is the client's
 * outcome, not a fault, so the span carries the error count rather than an error status.
 */
export async function validateMessage(body: unknown): Promise<SendMessageRequest> {
  const result = await inSpan(SPAN.validate, {}, async (span) => {
    const { value, error } = sendMessageSchema.validate(body, { abortEarly: false });
    // Joi drops `__proto__` without a word, so unsafe keys are looked for on the parsed body itself.
    const unsafe: FieldError[] = unsafeKeyPaths(body).map((path) => ({
      field: path.join('.'),
      message: `"${path.join('.')}" is a reserved key`,
      type: 'object.unsafeKey',
    }));
    const reported = new Set(unsafe.map((e) => e.field));
    const errors: FieldError[] = [...unsafe, ...(error?.details ?? []).map((d) => ({
      field: d.path.length > 0 ? d.path.join('.') : String(d.context?.key ?? ''),
      message: d.message,
      type: d.type,
    })).filter((e) => !reported.has(e.field))];
    const sendAt = (value as { sendAt?: unknown } | undefined)?.sendAt;
    if (typeof sendAt === 'string' && !errors.some((e) => e.field === 'sendAt') && !isRealDate(sendAt)) {
      errors.push({ field: 'sendAt', message: '"sendAt" is not a real date and time', type: 'date.invalid' });
    }
    span.setAttribute(ATTR.validationErrors, errors.length);
    return { value: value as SendMessageRequest, errors };
  });
  if (result.errors.length > 0) throw new ValidationFailed(result.errors);
  return result.value;
}
