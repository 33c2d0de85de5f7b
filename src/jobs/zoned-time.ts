// Times as a schedule's reader thinks of them: ISO 8601 wall-clock time in the schedule's IANA zone with
// that zone's offset at that instant ("2026-03-29T03:00:00+02:00"), so `--tz Europe/Berlin` shows Berlin
// times, and the text still parses back to the same instant (Date.parse, any ISO reader).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** `date` (whole seconds) as local time in `timeZone` with its UTC offset: 2026-12-04T18:15:00+01:00. */
export function isoInZone(date: Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(date)) parts[part.type] = part.value;
  // longOffset is "GMT+01:00", "GMT-03:30", or "GMT" for a zero offset.
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : parts.timeZoneName.replace(/^GMT/, '');
  const year = parts.year.padStart(4, '0');
  return `${year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** The system's IANA zone (what croner uses when no zone is given). */
export const systemTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
