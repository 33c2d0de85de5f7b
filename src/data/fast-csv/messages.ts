// Message texts the fast CSV path must produce exactly as the csv-parse path does.
//
// Row problems are not here: the fast path never words a bad row itself, it hands the row's fields to
// RowParser (row-parser.ts), so those messages are the same by construction. The texts below live in
// csv-source.ts as inline strings that it does not export; they are repeated here, and the
// differential tests (test/data/fast-csv-*.test.ts) fail if the two ever drift apart.

export const noRowsEmpty = 'no rows: the input is empty (or only blank lines)';

export const noRowsHeaderOnly = (headerLine: number) => `no rows: the input has a header (line ${headerLine}) but no data rows`;

export const noValidRows = (bad: number) => `no valid rows: all ${bad} data row${bad === 1 ? ' is' : 's are'} bad (see the errors above)`;

export const lineTooLong = (maxLineBytes: number) =>
  `line is longer than the limit of ${maxLineBytes} bytes (maxRecordBytes); is this a CSV file of images?`;

export const containsNul = 'does not look like a CSV text file (it contains NUL bytes: binary data, or UTF-16 text?)';

export const notUtf8 = 'does not look like a CSV text file (it is not valid UTF-8: binary data, or another encoding?)';

export const quotedLineBreak = (line: number, endLine: number) =>
  `a quoted field contains a line break (the record runs from line ${line} to ${endLine})`;

export const unclosedQuoteAtEnd = 'unclosed quote: a quoted field starts in this record and never ends';

export const unclosedQuoteTooLong = (maxRecordBytes: number) =>
  `unclosed quote: a quoted field starts in this record and does not end within ${maxRecordBytes} bytes (maxRecordBytes)`;

export const recordTooLong = (maxRecordBytes: number) => `record is longer than the limit of ${maxRecordBytes} bytes (maxRecordBytes)`;

export const cannotRead = (code: string, syscall: string) => `cannot read the input (${code}: ${syscall} failed)`;
