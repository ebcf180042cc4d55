import { maskFreeText } from '@ca/contracts';

/**
 * Every string the receiver keeps passes through `storedText`: it must be storable (PostgreSQL
 * text and jsonb refuse NUL, jsonb refuses lone UTF-16 surrogates) and must not carry a recipient
 * in clear. NUL and lone surrogates become U+FFFD, as a UTF-8 decoder does with bytes it cannot
 * read, so the record is kept rather than the whole export refused.
 */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(s: string): string {
  return SUSPECT.test(s) ? s.replace(UNSTORABLE, '\ufffd') : s;
}

/** A run of percent-escapes (possibly double-encoded, %2540) somewhere in a URL or a query. */
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;

function percentDecode(s: string): string {
  return s.replace(ESCAPES, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run; // not UTF-8: left as written
    }
  });
}

/**
 * maskFreeText (@ca/contracts) for stored text, extended to recipients written percent-encoded
 * (`to=jane%40example.com`, `%2B14155550100`, double-encoded `%2540`): when decoding the escapes
 * reveals a recipient, the decoded, masked text is stored instead. Strings without '@', '+' or '%'
 * cannot hold a recipient maskFreeText would find and skip the regular expressions.
 */
export function maskStoredText(s: string): string {
  if (!s.includes('@') && !s.includes('+') && !s.includes('%')) return s;
  let masked = maskFreeText(s);
  let current = masked;
  for (let round = 0; round < 3 && current.includes('%'); round += 1) {
    const decoded = percentDecode(current);
    if (decoded === current) break;
    const remasked = maskFreeText(decoded);
    // Only a decoding that reveals a recipient replaces what was written.
    if (remasked !== decoded) masked = remasked;
    current = remasked;
  }
  return masked;
}

/** What every wire string goes through before it is stored. */
export function storedText(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '';
  return maskStoredText(storableText(v));
}
