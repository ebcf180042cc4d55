import type { QuietHours } from '@ca/contracts';

/** `HH:MM`, 24-hour, local wall time of the user. */
export const WALL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

interface Wall {
  year: number;
  month: number;
  day: number;
  minuteOfDay: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at `at` (seconds kept, so 07:59:59 is still before 08:00). */
function wallOf(at: Date, timeZone: string): Wall & { secondOfDay: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  const [year, month, day, hour, minute, second] = [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map(Number) as [number, number, number, number, number, number];
  return { year, month, day, minuteOfDay: hour * 60 + minute, secondOfDay: (hour * 60 + minute) * 60 + second };
}

/** The zone's offset from UTC at `at`, in ms (wall clock read as if UTC, minus the instant). */
function offsetAt(at: Date, timeZone: string): number {
  const w = wallOf(at, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, 0, 0, w.secondOfDay) - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instants a wall time happens in `timeZone`, earliest first: two for the repeated autumn hour;
 * for a time in the spring gap, one, moved on by the gap (the way a wall clock reads after it was
 * set forward), as Temporal's `disambiguation: 'compatible'` does.
 */
export function instantsOf(wall: Wall, timeZone: string): Date[] {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minuteOfDay);
  // The offsets a day either side bracket any transition near this wall time.
  const before = offsetAt(new Date(asUtc - 86_400_000), timeZone);
  const after = offsetAt(new Date(asUtc + 86_400_000), timeZone);
  const candidates = [...new Set([before, after])].map((o) => asUtc - o).filter((t) => {
    const w = wallOf(new Date(t), timeZone);
    return w.year === wall.year && w.month === wall.month && w.day === wall.day && w.secondOfDay === wall.minuteOfDay * 60;
  });
  if (candidates.length > 0) return candidates.sort((a, b) => a - b).map((t) => new Date(t));
  // In the gap: with the offset from before the transition the instant lands past it, at the wall time + gap.
  return [new Date(asUtc - before)];
}

function minutesOf(hhmm: string): number {
  const [, h, m] = WALL_TIME.exec(hhmm) ?? [];
  return Number(h) * 60 + Number(m);
}

/** The calendar day after y-m-d (via UTC, which has no DST). */
function nextDay(w: Wall): Wall {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), minuteOfDay: w.minuteOfDay };
}

/**
 * When `at` falls inside the quiet hours of a user in `timeZone` (start inclusive, end exclusive;
 * `start` after `end` crosses midnight), the instant the window ends — the next time the user's
 * wall clock reads `end` — else null.
 */
export function quietHoursEnd(at: Date, window: QuietHours, timeZone: string): Date | null {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const now = wallOf(at, timeZone);
  const t = now.secondOfDay;
  const crossesMidnight = start > end;
  const inside = crossesMidnight ? t >= start * 60 || t < end * 60 : t >= start * 60 && t < end * 60;
  if (!inside) return null;
  const today: Wall = { year: now.year, month: now.month, day: now.day, minuteOfDay: end };
  // After the start on the evening side of a window that crosses midnight, it ends tomorrow.
  const endDay = crossesMidnight && t >= start * 60 ? nextDay(today) : today;
  // In the repeated autumn hour the end may have passed once already: the next occurrence counts.
  return instantsOf(endDay, timeZone).find((e) => e.getTime() > at.getTime()) ?? null;
}
