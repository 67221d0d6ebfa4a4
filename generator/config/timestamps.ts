/**
 * RFC 3339 timestamps (as `date -u +%Y-%m-%dT%H:%M:%SZ` prints them): the
 * schema checks the form, `parseRfc3339` also the calendar (no 30 February,
 * no hour 25), so a time that merely looks right is still refused.
 */

/** The form: date, "T", time with optional fraction, then "Z" or an offset. */
export const RFC3339_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';

/** The same in UTC only ("Z"), as CloudFormation's RestoreToTime wants it. */
export const RFC3339_UTC_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$';

const FORM = new RegExp(RFC3339_PATTERN);

/** The instant in UTC, whole seconds unless it has milliseconds: 2026-12-01T09:30:00Z. */
export function utcTimestamp(instant: Date): string {
  return instant.toISOString().replace('.000Z', 'Z');
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The instant, or undefined when the text is not a real RFC 3339 timestamp. */
export function parseRfc3339(text: string): Date | undefined {
  if (!FORM.test(text)) return undefined;
  const [year, month, day, hour, minute, second] = [0, 5, 8, 11, 14, 17].map((start) => Number(text.slice(start, start + (start === 0 ? 4 : 2))));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!) || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const zone = text.endsWith('Z') ? undefined : text.slice(-6);
  if (zone && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return undefined;
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}
