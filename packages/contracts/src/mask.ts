import type { Channel } from './channels';

/**
 * Masks a recipient before it reaches a log line, a span attribute, an API response or an
 * Elasticsearch document. Keeps just enough to tell recipients apart when debugging.
 *   email     jane.doe@example.com -> j***e@example.com
 *   sms/wa    +14155550100         -> +141*****100
 *   push      a long device token  -> abcdef…(152)
 */
export function maskRecipient(channel: Channel | string, to: string): string {
  if (channel === 'email' || (channel !== 'sms' && channel !== 'whatsapp' && channel !== 'push' && to.includes('@'))) {
    const at = to.lastIndexOf('@');
    if (at <= 0) return '***';
    const local = to.slice(0, at);
    const tail = local.length > 2 ? local.slice(-1) : '';
    return `${local[0] ?? ''}***${tail}${to.slice(at)}`;
  }
  if (channel === 'sms' || channel === 'whatsapp') {
    if (to.length < 8) return '***';
    return `${to.slice(0, 4)}${'*'.repeat(to.length - 7)}${to.slice(-3)}`;
  }
  if (to.length <= 8) return '***';
  return `${to.slice(0, 6)}…(${to.length})`;
}

/** Masks anything that looks like an email address or an E.164 number inside free text. */
export function maskFreeText(text: string): string {
  return text
    .replace(/([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g, '$1***@$2')
    .replace(/\+[1-9]\d{6,14}/g, (m) => maskRecipient('sms', m));
}
