// RecordScanner (the port of csv-parse's parse loop that the fast path uses for every record it does not
// decode itself) against csv-parse itself, with the options csv-source.ts gives it: on arbitrary short
// inputs over the characters that matter (quotes, separators, line ends, NUL, non-ASCII), the same
// records (fields as strings) or the same error, whole or fed in chunks of any size.
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { RecordScanner, ScanError, ScanStatus } from '../../src/data/fast-csv/record-scanner.js';

const csvParseOptions = (maxRecordSize: number) => ({
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  record_delimiter: ['\n', '\r\n'],
  max_record_size: maxRecordSize,
});

type Result = { records: string[][]; blankLines: number[]; error: string | null };

function viaCsvParse(bytes: Buffer, maxRecordSize: number): Omit<Result, 'blankLines'> {
  try {
    return { records: parse(bytes, csvParseOptions(maxRecordSize)) as string[][], error: null };
  } catch (error) {
    return { records: [], error: (error as { code?: string }).code ?? String(error) };
  }
}

/** The scanner fed `bytes` in pieces at `cuts` (as the decoder does: unconsumed bytes carried over). */
function viaScanner(bytes: Buffer, maxRecordSize: number, cuts: number[]): Result {
  const scanner = new RecordScanner(maxRecordSize);
  const records: string[][] = [];
  const blankLines: number[] = [];
  // csv-parse drops a UTF-8 BOM at the start; the decoder does that before the scanner sees the bytes.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const points = [...new Set(cuts.filter((c) => c > start && c < bytes.length)), bytes.length].sort((a, b) => a - b);
  let buf = Buffer.alloc(0);
  let from = start;
  try {
    for (const [i, to] of points.entries()) {
      buf = Buffer.concat([buf, bytes.subarray(from, to)]);
      from = to;
      const end = i === points.length - 1;
      let pos = 0;
      for (;;) {
        const status = scanner.scan(buf, pos, end);
        pos = scanner.pos;
        if (status !== ScanStatus.Record) break;
        records.push(scanner.fields);
        blankLines.push(scanner.blankLines);
        scanner.nextRecord();
      }
      buf = buf.subarray(pos);
    }
    return { records, blankLines, error: null };
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    return { records: [], blankLines: [], error: error.code };
  }
}

const alphabet = ['0', '7', '12', ',', ',', '"', '"', '""', '\n', '\r', '\r\n', '\0', ' ', 'x', 'é', '\ufeff'];
const inputArbitrary = fc.tuple(
  fc.boolean(),
  fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }),
).map(([bom, parts]) => Buffer.from((bom ? '\ufeff' : '') + parts.join(''), 'utf8'));

test('RecordScanner gives csv-parse\'s records and errors, whole and in chunks', (t) => {
  fc.assert(
    fc.property(inputArbitrary, fc.integer({ min: 3, max: 30 }), fc.array(fc.nat({ max: 60 }), { maxLength: 8 }), (bytes, maxRecordSize, cuts) => {
      const expected = viaCsvParse(bytes, maxRecordSize);
      const whole = viaScanner(bytes, maxRecordSize, []);
      deepStrictEqual({ records: whole.records, error: whole.error }, expected);
      const chunked = viaScanner(bytes, maxRecordSize, cuts);
      deepStrictEqual(chunked, whole);
    }),
    { numRuns: 20_000 },
  );
  t.pass();
});

test('RecordScanner: the corners of relax_quotes, by example', (t) => {
  const fields = (text: string) => viaScanner(Buffer.from(text), 1000, []).records;
  t.deepEqual(fields('"12"3,4\n'), [['"12"3', '4']]);
  t.deepEqual(fields('1"2,"3"\n'), [['1"2', '3']]);
  t.deepEqual(fields('"1""2",""\n'), [['1"2', '']]);
  t.deepEqual(fields('"5"\0,6\n'), [['5\0', '6']]);
  t.deepEqual(fields('"a\nb",c\r\nd'), [['a\nb', 'c'], ['d']]);
  t.deepEqual(fields('\n\r\n1\r2\r\n'), [['1\r2']]);
  t.is(viaScanner(Buffer.from('1,"2\n3\n'), 1000, []).error, 'CSV_QUOTE_NOT_CLOSED');
  t.is(viaScanner(Buffer.from(`1,"${'2'.repeat(50)}`), 20, []).error, 'CSV_MAX_RECORD_SIZE');
});
