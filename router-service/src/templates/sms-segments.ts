/**
 * SMS length as carriers count it (3GPP TS 23.038): text made only of GSM 03.38 characters goes as
 * GSM-7 (7-bit septets; the extension characters take two), anything else as UCS-2 (UTF-16 units).
 * One segment holds 160 septets / 70 units; a concatenated message loses room to the UDH header,
 * 153 / 67 per segment.
 */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('^{}\\[~]|€\f');

export interface SmsLength {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

export function smsLength(text: string): SmsLength {
  let septets = 0;
  for (const ch of text) {
    if (GSM7_BASIC.has(ch)) septets += 1;
    else if (GSM7_EXTENSION.has(ch)) septets += 2;
    else return { encoding: 'UCS-2', units: text.length, segments: segments(text.length, 70, 67) };
  }
  return { encoding: 'GSM-7', units: septets, segments: segments(septets, 160, 153) };
}

function segments(units: number, single: number, multi: number): number {
  if (units === 0) return 0;
  return units <= single ? 1 : Math.ceil(units / multi);
}
