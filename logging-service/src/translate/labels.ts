import type { AttributeValue } from '../otlp/model';

export type Labels = Record<string, string | string[]>;
export type NumericLabels = Record<string, number | number[]>;

/** Elastic keyword fields hold at most this many characters (apm-data `truncate`). */
const KEYWORD_LENGTH = 1024;

export const truncate = (s: string): string => (s.length > KEYWORD_LENGTH ? s.slice(0, KEYWORD_LENGTH) : s);

/** Label keys cannot contain dots (they would become objects): apm-data `replaceDots`. */
export const labelKey = (key: string): string => key.replaceAll('.', '_');

/**
 * apm-data `setLabel`: strings and booleans become `labels` (keyword), numbers `numeric_labels`,
 * homogeneous arrays keep their element type, maps are dropped.
 */
export function setLabel(key: string, value: AttributeValue, labels: Labels, numeric: NumericLabels): void {
  const k = labelKey(key);
  if (typeof value === 'string') labels[k] = truncate(value);
  else if (typeof value === 'boolean') labels[k] = String(value);
  else if (typeof value === 'number') numeric[k] = value;
  else if (Array.isArray(value) && value.length > 0) {
    const first = value[0];
    if (typeof first === 'string' || typeof first === 'boolean') labels[k] = value.filter((v) => typeof v === typeof first).map((v) => truncate(String(v)));
    else if (typeof first === 'number') numeric[k] = value.filter((v): v is number => typeof v === 'number');
  }
}

/** Drops empty label objects so documents carry no `labels: {}`. */
export function withLabels<T extends Record<string, unknown>>(doc: T, labels: Labels, numeric: NumericLabels): T {
  if (Object.keys(labels).length) (doc as Record<string, unknown>).labels = labels;
  if (Object.keys(numeric).length) (doc as Record<string, unknown>).numeric_labels = numeric;
  return doc;
}
