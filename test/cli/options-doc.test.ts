// Issue 14 item 2, issue 17 item 6: each command's options are written once (src/cli/option-table.ts) and
// the documentation is made from them (`npm run docs`). These fail when docs/cli.md or the
// README's pipeline table is stale, when an option of some command's --help is missing from docs/cli.md
// or documented with another default, and when a command lacks --version.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliDoc, COMMANDS, optionsBlock } from '../../src/cli/options-doc.js';
import { runPipeline } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const STALE = '(run `npm run build && npm run docs`)';

test('docs/cli.md is what the option tables generate', (t) => {
  t.is(read('docs/cli.md'), cliDoc(), `docs/cli.md is stale ${STALE}`);
});

test("the README's pipeline option table is what the pipeline's table generates", (t) => {
  const readme = read('README.md');
  t.true(readme.includes(optionsBlock('pipeline')), `README.md's <!-- options:pipeline --> block is stale ${STALE}`);
});

/** `--flag` -> default ('' for none) of one command's block in docs/cli.md. */
function documented(doc: string, name: string): Map<string, string> {
  const start = doc.indexOf(`<!-- options:${name}:start -->`);
  const end = doc.indexOf(`<!-- options:${name}:end -->`, start);
  const rows = new Map<string, string>();
  if (start === -1 || end === -1) return rows;
  for (const line of doc.slice(start, end).split('\n')) {
    const cells = /^\| `(--[a-z-]+)[^`]*` \| (.*?) \| /.exec(line);
    if (cells) rows.set(cells[1], cells[2] === 'none' ? '' : cells[2].replace(/^`|`$/g, ''));
  }
  return rows;
}

/** `--flag` -> default ('' for none) of what --help prints (its lines unwrapped). */
function helped(help: string): Map<string, string> {
  const section = help.slice(help.indexOf('Options:\n') + 'Options:\n'.length).split('\n\n')[0];
  const entries: string[] = [];
  for (const line of section.split('\n')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else if (entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  const options = new Map<string, string>();
  for (const entry of entries) {
    const flag = /--[a-z-]+/.exec(entry)![0];
    const shown = /\((?:choices: .*?, )?default: (.*)\)$/.exec(entry);
    options.set(flag, shown ? shown[1].replace(/^"(.*)"$/, '$1') : '');
  }
  return options;
}

for (const name of Object.keys(COMMANDS)) {
  const argv = name === 'pipeline' ? [] : [name];
  test(`every option of \`nnpipe ${argv.join(' ')} --help\` is in docs/cli.md with the same default`, async (t) => {
    const run = await runPipeline([...argv, '--help']);
    t.is(run.code, 0, run.stderr);
    const docs = documented(read('docs/cli.md'), name);
    const help = helped(run.stdout);
    t.true(help.size > 2, run.stdout);
    for (const [flag, shown] of help) {
      if (flag === '--help' || flag === '--version') continue;
      t.true(docs.has(flag), `${flag} is not in docs/cli.md's ${name} table ${STALE}`);
      t.is(docs.get(flag), shown, `${flag}: --help says (default: ${shown}), docs/cli.md says ${docs.get(flag)}`);
    }
    t.notRegex(run.stdout, /default: "-?[0-9.]+"/, 'numeric defaults are shown as numbers');
  });

  test(`\`nnpipe ${argv.join(' ')} --version\` prints the package's version`, async (t) => {
    const run = await runPipeline([...argv, '--version']);
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout, `${(JSON.parse(read('package.json')) as { version: string }).version}\n`);
  });
}

test('`nnpipe convert IN OUT` takes its two arguments (as its --help says)', async (t) => {
  const run = await runPipeline(['convert', 'no-such-model.safetensors', 'out.txt']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^nnpipe convert: OUT must end in \.safetensors or \.npz, got 'out\.txt'/);
  t.notRegex(run.stderr, /Expected 0 arguments/);
});
