// The texts of the problems that end a read, in one place for both CSV paths (the framer and the
// csv-parse path), so that the same input is refused with the same words whichever path reads it.
// Row problems are not here: both paths hand a row's fields to RowParser (row-parser.ts), which words them.

export const noRowsEmpty = 'no rows: the input is empty (or only blank lines)';

export const noRowsHeaderOnly = (headerLine: number) =>
  `no rows: the input has a header (line ${headerLine}) but no data rows`;

export const noValidRows = (bad: number) =>
  `no valid rows: all ${bad} data row${bad === 1 ? ' is' : 's are'} bad (see the errors above)`;

export const lineTooLong = (maxLineBytes: number) =>
  `line is longer than the limit of ${maxLineBytes} bytes (maxRecordBytes); is this a CSV file of images?`;

export const containsNul = 'does not look like a CSV text file (it contains NUL bytes: binary data, or UTF-16 text?)';

export const notUtf8 = 'does not look like a CSV text file (it is not valid UTF-8: binary data, or another encoding?)';

export const quotedLineBreak = (line: number, endLine: number) =>
  `a quoted field contains a line break (the record runs from line ${line} to ${endLine})`;

/** The framer reads one record per line: a quoted field that runs on past its line end is refused. */
export const quoteRunsPastLine =
  'a quoted field is not closed on its line; the fast parser reads one record per line: run with --parser csv-parse';

export const unclosedQuoteAtEnd = 'unclosed quote: a quoted field starts in this record and never ends';

export const unclosedQuoteTooLong = (maxRecordBytes: number) =>
  `unclosed quote: a quoted field starts in this record and does not end within ${maxRecordBytes} bytes ` +
  `(maxRecordBytes)`;

export const recordTooLong = (maxRecordBytes: number) =>
  `record is longer than the limit of ${maxRecordBytes} bytes (maxRecordBytes)`;

export const cannotRead = (code: string, syscall: string) => `cannot read the input (${code}: ${syscall} failed)`;

/** zlib's reason (e.g. "unexpected end of file") for a gzip input it could not decompress. */
export const badGzip = (reason: string) => `is not a complete gzip file (${reason}): truncated or corrupt?`;

/** A shard is read from a byte position, which a gzip stream does not have. */
export const gzipShardProblem =
  'cannot be cut into shards: it is gzip-compressed, and a gzip stream cannot be read from a byte position; ' +
  'decompress it, or score it whole';
