/** `{{ name }}` placeholders of a campaign's subject and body, filled from a CSV row's columns. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]{1,64})\s*\}\}/g;

export function placeholders(...texts: Array<string | null | undefined>): string[] {
  const found = new Set<string>();
  for (const text of texts) for (const m of (text ?? '').matchAll(PLACEHOLDER)) found.add(m[1]!);
  return [...found];
}

export function render(text: string, params: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_all, name: string) => params[name] ?? '');
}
