// The progress bar's position: bytes of the file; with --limit, rows of min(limit, the rows the file is
// estimated to hold); always full at the end.
import test from 'ava';
import { Writable } from 'node:stream';
import { barPosition, createProgress } from '../../src/cli/progress.js';

const MB = 1_000_000;

test('without a limit: bytes read of the file size, full at the end', (t) => {
  t.deepEqual(barPosition({ rows: 100, bytesRead: 2 * MB, totalBytes: 10 * MB }), { value: 2 * MB, total: 10 * MB });
  t.deepEqual(barPosition({ rows: 500, bytesRead: 10 * MB, totalBytes: 10 * MB, done: true }), {
    value: 10 * MB,
    total: 10 * MB,
  });
  t.is(barPosition({ rows: 100, bytesRead: 2 * MB, totalBytes: null }), null, 'stdin: a row counter, no bar');
});

test('--limit 2000 of a 10,000-row file: the total is the limit, not the file (issue 17: it ended at 20%)', (t) => {
  // 1,830 bytes per row: a 10,000-row file is 18.3 MB.
  const file = 10_000 * 1830;
  t.deepEqual(barPosition({ rows: 1000, bytesRead: 1000 * 1830, totalBytes: file }, 2000), {
    value: 1000,
    total: 2000,
  });
  t.deepEqual(barPosition({ rows: 2000, bytesRead: 2100 * 1830, totalBytes: file, done: true }, 2000), {
    value: 2000,
    total: 2000,
  });
});

test('--limit above the rows the file holds: the total is the estimate, and the end is full whatever was estimated', (t) => {
  const file = 300 * 1830;
  t.deepEqual(barPosition({ rows: 100, bytesRead: 100 * 1830, totalBytes: file }, 5000), { value: 100, total: 300 });
  t.deepEqual(barPosition({ rows: 297, bytesRead: file, totalBytes: file, done: true }, 5000), {
    value: 297,
    total: 297,
  });
});

test('--limit on stdin (no size): rows of the limit; before any row the total is the limit', (t) => {
  t.deepEqual(barPosition({ rows: 0, bytesRead: 0, totalBytes: null }, 2000), { value: 0, total: 2000 });
  t.deepEqual(barPosition({ rows: 500, bytesRead: 900_000, totalBytes: null }, 2000), { value: 500, total: 2000 });
});

test('the ETA reads as a time or "--", never as cli-progress\'s cut "NULL" ("LLs") or "INF"', async (t) => {
  let shown = '';
  const terminal = Object.assign(
    new Writable({
      write(chunk, _encoding, callback) {
        shown += String(chunk);
        callback();
      },
    }),
    { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
  ) as unknown as NodeJS.WriteStream;
  const progress = createProgress({ enabled: true, label: 'scoring', stream: terminal });
  // The whole file read early (reading runs ahead of scoring), then batch after batch at that position:
  // over cli-progress's last 100 samples nothing moved, so its rate is 0/0 (this is what showed "ETA LLs").
  progress.update({ rows: 0, bytesRead: 0, totalBytes: 10 * MB });
  for (let rows = 100; rows <= 20_000; rows += 100) progress.update({ rows, bytesRead: 10 * MB, totalBytes: 10 * MB });
  await new Promise((resolve) => setTimeout(resolve, 150));
  progress.stop();
  const etas = [...shown.matchAll(/ETA ([^\s\u001b]+)/g)].map((match) => match[1]);
  t.true(etas.length > 0, shown);
  for (const eta of etas) t.regex(eta, /^(--|\s*\d+s|\d+m\d+s|\d+h\d+m)$/, shown);
});
