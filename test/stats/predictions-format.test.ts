// The predictions format chosen by flag and name, and the line/row numbers a shard merge moves.
import test from 'ava';
import { formatByName, lineAndRow, predictionsFormatFor, renumbered } from '../../src/stats/predictions-format.js';

test('the format: an explicit flag wins, then the extension (.jsonl, .ndjson, any case), else csv; - is csv', (t) => {
  t.is(predictionsFormatFor('out.jsonl', null), 'jsonl');
  t.is(predictionsFormatFor('OUT.NDJSON', null), 'jsonl');
  t.is(predictionsFormatFor('out.csv', null), 'csv');
  t.is(predictionsFormatFor('out.txt', null), 'csv');
  t.is(predictionsFormatFor('-', null), 'csv');
  t.is(predictionsFormatFor('-', 'jsonl'), 'jsonl');
  t.is(predictionsFormatFor('out.jsonl', 'csv'), 'csv');
  t.is(formatByName('out.txt'), null);
});

test('a shard line renumbered: line and row moved, the rest byte for byte', (t) => {
  const csv = '12,3,7,7,0.5,0.1,0.9';
  const numbers = lineAndRow('csv', csv)!;
  t.deepEqual(numbers, { line: 12, row: 3, rest: 4 });
  t.is(renumbered('csv', numbers, csv, 1000, 50), '1012,53,7,7,0.5,0.1,0.9');
  const json = '{"line":12,"row":3,"label":null,"predicted":7,"confidence":0.5}';
  t.is(
    renumbered('jsonl', lineAndRow('jsonl', json)!, json, 1000, 50),
    '{"line":1012,"row":53,"label":null,"predicted":7,"confidence":0.5}',
  );
});

test('lines that are not data lines of the format are not read as such', (t) => {
  for (const text of [
    'line,row,label,predicted,confidence',
    '0,0,1,1,1',
    '12,,7,7,1',
    '{"row":1,"line":2,"x":1}',
    '12,3',
  ])
    t.is(lineAndRow('csv', text) ?? lineAndRow('jsonl', text), null, text);
  t.is(lineAndRow('jsonl', '12,3,7,7,0.5'), null);
  t.is(lineAndRow('csv', '{"line":12,"row":3,"label":1}'), null);
});
