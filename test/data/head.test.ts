// readFirstRecord: a first line without a quote is split by hand; csv-parse is the oracle for it.
import test from 'ava';
import { parse as parseSync } from 'csv-parse/sync';
import fc from 'fast-check';
import { CSV_PARSE_OPTIONS, readFirstRecord } from '../../src/data/head.js';

const field = fc.stringMatching(/^[0-9a-z \r\u00e9\u{1F600}\t;]{0,6}$/u);
const line = fc.array(field, { minLength: 1, maxLength: 8 }).map((fields) => fields.join(','));
const end = fc.constantFrom('\n', '\r\n', '');

/** csv-parse's first record of `text` and the bytes up to its end (after its line end). */
function oracle(text: Buffer) {
  const [first] = parseSync(text, { ...CSV_PARSE_OPTIONS, to: 1, info: true, raw: true }) as unknown as Array<{
    record: string[];
    info: { bytes: number };
  }>;
  return first;
}

test('an unquoted first line: the fields and end csv-parse finds', (t) => {
  fc.assert(
    fc.property(line, end, (text, lineEnd) => {
      const head = Buffer.from(`${text}${lineEnd}9,9\n`);
      const ended = lineEnd === '';
      const ours = readFirstRecord(ended ? Buffer.from(text) : head, ended, 'f.csv', 1 << 20);
      const theirs = oracle(ended ? Buffer.from(text) : head);
      if (theirs === undefined) return ours.status === 'none';
      if (ours.status !== 'record') return false;
      return JSON.stringify(ours.fields) === JSON.stringify(theirs.record) && ours.end === theirs.info.bytes;
    }),
  );
  t.pass();
});

test('an unquoted first line over the size bound is refused as csv-parse refuses it', (t) => {
  const error = t.throws(() => readFirstRecord(Buffer.from(`${'123456789,'.repeat(6)}1\n`), false, 'f.csv', 50));
  t.regex(error.message, /^f\.csv:1: record is longer than the limit of 50 bytes/);
});

test('a first line of exactly the size bound is read', (t) => {
  const record = readFirstRecord(Buffer.from(`${'1,'.repeat(24)}12\n`), false, 'f.csv', 50);
  t.is(record.status === 'record' && record.fields.length, 25);
});
