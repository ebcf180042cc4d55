import { ATTR, SPAN, sendMessageSchema, type SendMessageRequest } from '@ca/contracts';
import { inSpan } from '@ca/telemetry';
import { ValidationFailed, type FieldError } from '../errors';

/**
 * Validates a POST /v1/messages body, reporting every invalid field at once (unknown fields
 * included). Returns the body with defaults applied (priority). An invalid body is the client's
 * outcome, not a fault, so the span carries the error count rather than an error status.
 */
export async function validateMessage(body: unknown): Promise<SendMessageRequest> {
  const result = await inSpan(SPAN.validate, {}, async (span) => {
    const { value, error } = sendMessageSchema.validate(body, { abortEarly: false });
    const errors: FieldError[] = (error?.details ?? []).map((d) => ({
      field: d.path.length > 0 ? d.path.join('.') : String(d.context?.key ?? ''),
      message: d.message,
      type: d.type,
    }));
    span.setAttribute(ATTR.validationErrors, errors.length);
    return { value: value as SendMessageRequest, errors };
  });
  if (result.errors.length > 0) throw new ValidationFailed(result.errors);
  return result.value;
}
