import type Joi from 'joi';
import { unsafeKeyPaths } from '@ca/contracts';
import { ValidationFailed, type FieldError } from '../errors';

/**
 * Validates a body against `schema`, reporting every invalid field at once (and `__proto__`-style
 * keys, which Joi drops without a word); returns the value with defaults applied.
 */
export function validateWith<T>(schema: Joi.Schema, body: unknown): T {
  const { value, error } = schema.validate(body, { abortEarly: false });
  const unsafe: FieldError[] = unsafeKeyPaths(body).map((path) => ({ field: path.join('.'), message: `"${path.join('.')}" is a reserved key`, type: 'object.unsafeKey' }));
  const reported = new Set(unsafe.map((e) => e.field));
  const errors = [...unsafe, ...(error?.details ?? []).map((d) => ({
    field: d.path.length > 0 ? d.path.join('.') : String(d.context?.key ?? ''),
    message: d.message,
    type: d.type,
  })).filter((e) => !reported.has(e.field))];
  if (errors.length > 0) throw new ValidationFailed(errors);
  return value as T;
}
