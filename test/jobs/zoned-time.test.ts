// Schedule times in the schedule's zone: local wall-clock time with the offset, parsing back to the instant.
import test from 'ava';
import fc from 'fast-check';
import { isoInZone } from '../../src/jobs/zoned-time.js';

const zones = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
  'Asia/Tokyo',
  'Europe/London',
];

test('known instants: summer and winter time, odd offsets, UTC', (t) => {
  t.is(isoInZone(new Date('2026-12-04T17:15:00Z'), 'Europe/Berlin'), '2026-12-04T18:15:00+01:00');
  t.is(isoInZone(new Date('2026-07-04T17:15:00Z'), 'Europe/Berlin'), '2026-07-04T19:15:00+02:00');
  t.is(isoInZone(new Date('2026-07-04T17:15:00Z'), 'America/New_York'), '2026-07-04T13:15:00-04:00');
  t.is(isoInZone(new Date('2026-07-04T17:15:00Z'), 'Asia/Kathmandu'), '2026-07-04T23:00:00+05:45');
  t.is(isoInZone(new Date('2026-07-04T17:15:00Z'), 'UTC'), '2026-07-04T17:15:00+00:00');
  t.is(isoInZone(new Date('2026-12-31T23:30:00Z'), 'Asia/Tokyo'), '2027-01-01T08:30:00+09:00', 'the date rolls over');
  t.is(
    isoInZone(new Date('2026-03-29T01:00:00Z'), 'Europe/Berlin'),
    '2026-03-29T03:00:00+02:00',
    'the first instant of summer time',
  );
});

test('property: the text parses back to the same whole second, in every zone', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: Date.UTC(1971, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }),
      fc.constantFrom(...zones),
      (seconds, zone) => {
        const text = isoInZone(new Date(seconds * 1000), zone);
        return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(text) && Date.parse(text) === seconds * 1000;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});
