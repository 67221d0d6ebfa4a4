/**
 * The longest gap between two runs of a five-field cron schedule (UTC), so an
 * alert can say "no backup for twice the schedule". Found by walking the
 * minutes of four weeks; a schedule that fires less often than that is refused.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(text: string, field: (typeof FIELDS)[number], schedule: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`cron schedule "${schedule}": ${field.name} "${text}" is not a number, range, list, * or step`);
    const from = match[1] === '*' ? field.min : Number(match[2]);
    const to = match[1] === '*' ? field.max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? field.max : from;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (from < field.min || to > field.max || from > to || step < 1) throw new Error(`cron schedule "${schedule}": ${field.name} "${text}" is outside ${field.min}-${field.max}`);
    for (let value = from; value <= to; value += step) values.add(field.name === 'day of week' && value === 7 ? 0 : value);
  }
  return values;
}

const WEEKS = 4;

export function cronMaxIntervalSeconds(schedule: string): number {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron schedule "${schedule}" needs five fields (minute hour day-of-month month day-of-week)`);
  const [minutes, hours, days, months, weekdays] = parts.map((part, index) => parseField(part, FIELDS[index]!, schedule)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const anyDay = parts[2] === '*';
  const anyWeekday = parts[4] === '*';
  // Monday 2024-01-01 00:00 UTC; four weeks covers every weekday four times.
  const start = Date.UTC(2024, 0, 1);
  const runs: number[] = [];
  for (let minute = 0; minute < WEEKS * 7 * 24 * 60; minute++) {
    const date = new Date(start + minute * 60_000);
    if (!minutes.has(date.getUTCMinutes()) || !hours.has(date.getUTCHours()) || !months.has(date.getUTCMonth() + 1)) continue;
    const dayMatches = days.has(date.getUTCDate());
    const weekdayMatches = weekdays.has(date.getUTCDay());
    // Standard cron: when both day fields are restricted, either may match.
    const matches = anyDay && anyWeekday ? true : anyDay ? weekdayMatches : anyWeekday ? dayMatches : dayMatches || weekdayMatches;
    if (matches) runs.push(minute);
  }
  if (runs.length < 2) throw new Error(`cron schedule "${schedule}" runs less than twice in ${WEEKS} weeks; the alert needs a schedule of at most weekly`);
  let longest = runs[0]! + WEEKS * 7 * 24 * 60 - runs[runs.length - 1]!;
  for (let index = 1; index < runs.length; index++) longest = Math.max(longest, runs[index]! - runs[index - 1]!);
  return longest * 60;
}
