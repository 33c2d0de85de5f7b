// Hostile input through the real CLI: every case ends with a clear message and exit 1 (or a clean
// result), never a crash or an out-of-memory death, whichever thread decodes.
import test from 'ava';
import { mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runPipeline } from '../helpers/cli.js';
import { writeRandomModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'nnpipe-hostile-'));
const modelReady = writeRandomModel(join(dir, 'net.safetensors'));
const row = (label: number) => `${label},${Array.from({ length: 784 }, (_, i) => (i * 7 + label) % 256).join(',')}`;

const files: Record<string, (tag: string) => Promise<string> | string> = {
  empty: (tag) => {
    writeFileSync(join(dir, `empty-${tag}.csv`), '');
    return join(dir, `empty-${tag}.csv`);
  },
  'header only': (tag) => {
    writeFileSync(
      join(dir, `header-${tag}.csv`),
      `label,${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}\n`,
    );
    return join(dir, `header-${tag}.csv`);
  },
  binary: (tag) => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) % 256;
    writeFileSync(join(dir, `binary-${tag}.csv`), bytes);
    return join(dir, `binary-${tag}.csv`);
  },
  '100,000 empty lines': (tag) => {
    writeFileSync(join(dir, `blank-${tag}.csv`), '\n'.repeat(100_000));
    return join(dir, `blank-${tag}.csv`);
  },
  'a 50 MB line with no line end': async (tag) => {
    const path = join(dir, `long-${tag}.csv`);
    const out = createWriteStream(path);
    const piece = Buffer.from('1,'.repeat(512 * 1024)); // 1 MiB
    for (let i = 0; i < 50; i++) if (!out.write(piece)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    return path;
  },
};

const expected: Record<string, RegExp> = {
  empty: /no rows: the input is empty/,
  'header only': /no rows: the input has a header \(line 1\) but no data rows/,
  binary: /does not look like a CSV text file/,
  '100,000 empty lines': /no rows: the input is empty \(or only blank lines\)/,
  'a 50 MB line with no line end': /:1: .*longer than the limit/,
};

for (const [name, make] of Object.entries(files)) {
  for (const decode of ['main', 'workers']) {
    test(`${name} (--decode ${decode}): a clear message and exit 1`, async (t) => {
      const input = await make(decode);
      const run = await runPipeline([
        '--input',
        input,
        '--model',
        await modelReady,
        '--quiet',
        '--decode',
        decode,
        '--threads',
        '2',
      ]);
      t.is(run.code, 1, run.stderr);
      t.regex(run.stderr, expected[name]);
      t.notRegex(run.stderr, /unexpected error|heap out of memory|FATAL/);
    });
  }
}

test('a valid file after all these still works (sanity)', async (t) => {
  const path = join(dir, 'ok.csv');
  writeFileSync(path, `${[1, 2, 3].map(row).join('\n')}\n`);
  const run = await runPipeline(['--input', path, '--model', await modelReady, '--json']);
  t.is(run.code, 0, run.stderr);
  t.is(JSON.parse(run.stdout).rows, 3);
});

// Issue 12, row 11: pandas writes an unnamed frame's header as column numbers (0,1,...,784): a header,
// since no data row can hold values past 255. Through every parser and decode placement.
for (const [first, parser, decode] of [0, 1].flatMap((from) =>
  ['fast', 'csv-parse'].flatMap((p) => ['main', 'workers'].map((d) => [from, p, d] as const)),
)) {
  test(
    `a header of column numbers ${first}..${first + 784} is a header (--parser ${parser} --decode ` + `${decode})`,
    async (t) => {
      const path = join(dir, `numbered-${first}-${parser}-${decode}.csv`);
      writeFileSync(
        path,
        `${Array.from({ length: 785 }, (_, i) => first + i).join(',')}\n${[1, 2, 3].map(row).join('\n')}\n`,
      );
      const run = await runPipeline([
        '--input',
        path,
        '--model',
        await modelReady,
        '--json',
        '--parser',
        parser,
        '--decode',
        decode,
        '--threads',
        '2',
      ]);
      t.is(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      t.is(report.rows, 3);
      t.is(report.input.hasHeader, true);
      t.is(report.labeled, 3);
    },
  );
}
