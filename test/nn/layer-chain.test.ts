// State-dict names and layouts, the same in every format: W1/b1 (in, out) and PyTorch's PREFIX.weight /
// PREFIX.bias (out, in); layers ordered by name when that chains, else by their shapes; weights transposed
// where the bias says they are (out, in); square layers follow the names' convention; anything ambiguous
// or unknown is refused with what to do.
import test from 'ava';
import fc from 'fast-check';
import { ModelError } from '../../src/errors.js';
import { naturalCompare } from '../../src/nn/layer-chain.js';
import { networkFromModelFile } from '../../src/nn/network.js';
import type { ModelFile, Tensor } from '../../src/nn/types.js';
import { randomTensors } from '../helpers/models.js';
import { transposed } from '../helpers/torch-writer.js';

const FILE = 'model.safetensors';
const modelFile = (entries: [string, Tensor][]): ModelFile => ({
  path: FILE,
  format: 'safetensors',
  sha256: '00'.repeat(32),
  sizeBytes: 1,
  tensors: new Map(entries),
  metadata: {},
});
const net = randomTensors([10, 6, 6, 4], 5);
const W = (k: number) => net.get(`W${k}`)!;
const b = (k: number) => net.get(`b${k}`)!;

/** The layers under PyTorch names `name(k)`, weights (out, in). */
const torchNamed = (name: (k: number) => string): [string, Tensor][] =>
  [1, 2, 3].flatMap(
    (k) =>
      [
        [`${name(k)}.weight`, transposed(W(k))],
        [`${name(k)}.bias`, b(k)],
      ] as [string, Tensor][],
  );

function sameNetwork(t: import('ava').ExecutionContext, entries: [string, Tensor][]) {
  const loaded = networkFromModelFile(modelFile(entries));
  t.deepEqual(loaded.layerSizes, [10, 6, 6, 4]);
  loaded.network.layers.forEach((layer, k) => {
    t.deepEqual(layer.W.data, W(k + 1).data, `layer ${k + 1} weights`);
    t.deepEqual(layer.b, b(k + 1).data, `layer ${k + 1} bias`);
  });
  return loaded;
}

const refuses = (t: import('ava').ExecutionContext, entries: [string, Tensor][], pattern: RegExp) =>
  t.throws(() => networkFromModelFile(modelFile(entries)), { instanceOf: ModelError, message: pattern });

for (const [convention, name] of [
  ['fc1/fc2/fc3', (k: number) => `fc${k}`],
  ["a Sequential's 0/2/4", (k: number) => `${2 * (k - 1)}`],
  ['layers.0/layers.1/layers.2', (k: number) => `layers.${k - 1}`],
  ['model.net.0 .. model.net.10 (numbers compared as numbers)', (k: number) => `model.net.${[0, 2, 10][k - 1]}`],
] as const) {
  test(
    `PyTorch names ${convention}, (out, in): the same network as W1/b1, every weight transposed (the 6x6 one by ` +
      `convention)`,
    (t) => {
      const loaded = sameNetwork(t, torchNamed(name));
      t.deepEqual(
        loaded.layerSources.map((source) => source.transposed),
        [true, true, true],
      );
      t.true(loaded.notes.some((note) => /is square: read as \(outputs, inputs\), PyTorch's layout/.test(note)));
    },
  );
}

test('W1/b1 names stored (out, in) are transposed where the bias says so; a square W stays (in, out)', (t) => {
  const loaded = sameNetwork(t, [
    ['W1', transposed(W(1))],
    ['b1', b(1)],
    ['W2', W(2)],
    ['b2', b(2)],
    ['W3', transposed(W(3))],
    ['b3', b(3)],
  ]);
  t.deepEqual(
    loaded.layerSources.map((source) => source.transposed),
    [true, false, true],
  );
  t.true(
    loaded.notes.some((note) =>
      /^W1 \(6, 10\) is \(outputs, inputs\), as its bias b1 has 6 values: transposed$/.test(note),
    ),
  );
});

test('names whose order does not chain are ordered by the chain of their shapes, and it is noted', (t) => {
  const entries = torchNamed((k) => ['input', 'hidden', 'output'][k - 1]);
  // Only one 6x6 layer, so the shapes give one order: input (10->6), hidden (6->6), output (6->4).
  const loaded = sameNetwork(t, entries);
  t.true(
    loaded.notes.some((note) =>
      /layers ordered by their shapes \(input\.weight, hidden\.weight, output\.weight\)/.test(note),
    ),
  );
});

test('layers whose shapes chain in several orders, with names that do not, are refused with how to fix it', (t) => {
  const square = randomTensors([10, 6, 6, 6, 4], 9);
  const entries: [string, Tensor][] = ['d', 'b', 'c', 'a'].flatMap(
    (name, k) =>
      [
        [`${name}.weight`, transposed(square.get(`W${k + 1}`)!)],
        [`${name}.bias`, square.get(`b${k + 1}`)!],
      ] as [string, Tensor][],
  );
  refuses(
    t,
    entries,
    /the layers' shapes chain in more than one order \(d\.weight, b\.weight, c\.weight, a\.weight; or d\.weight, c\.weight, b\.weight, a\.weight\); name the layers so that their order shows/,
  );
});

test('mixed conventions, batch norm, unknown names and lone tensors are refused, saying what is expected', (t) => {
  refuses(
    t,
    [
      ['W1', W(1)],
      ['b1', b(1)],
      ['fc2.weight', transposed(W(2))],
      ['fc2.bias', b(2)],
    ],
    /mixes W1\/b1 names \(W1\) with PyTorch names \(fc2\.weight\); use one convention/,
  );
  refuses(
    t,
    [...torchNamed((k) => `fc${k}`), ['bn.running_mean', b(1)]],
    /unexpected tensor bn\.running_mean: batch normalisation is not supported/,
  );
  refuses(
    t,
    [['dense/kernel', W(1)]],
    /unexpected tensor dense\/kernel \(a network holds only W1, b1, \.\.\., Wn, bn .* fc1\.weight/,
  );
  refuses(
    t,
    [['fc1.weight', transposed(W(1))]],
    /tensor fc1\.weight has no bias fc1\.bias; layers without a bias are not supported/,
  );
  refuses(t, [['fc1.bias', b(1)]], /tensor fc1\.bias has no weight fc1\.weight/);
});

test("a chain that breaks in every order is refused, naming where the names' order breaks", (t) => {
  const entries = torchNamed((k) => `fc${k}`);
  entries[4] = ['fc3.weight', { shape: [4, 5], data: new Float32Array(20) }];
  refuses(
    t,
    entries,
    /the layers do not chain: fc2\.weight \(6, 6, read as \(outputs, inputs\)\) gives 6 outputs, but the next layer, fc3\.weight \(4, 5, read as \(outputs, inputs\)\), takes 5 inputs/,
  );
});

test('naturalCompare orders digit runs as numbers', (t) => {
  t.deepEqual(['fc10', 'fc2', 'fc1', 'a', 'layers.10.x', 'layers.9.x'].sort(naturalCompare), [
    'a',
    'fc1',
    'fc2',
    'fc10',
    'layers.9.x',
    'layers.10.x',
  ]);
  fc.assert(
    fc.property(
      fc.nat(1000),
      fc.nat(1000),
      (x, y) => Math.sign(naturalCompare(`fc${x}.weight`, `fc${y}.weight`)) === Math.sign(x - y),
    ),
  );
});

test('any permutation of distinct-size layers under arbitrary names loads as the one chain', (t) => {
  const sizes = [9, 8, 7, 6, 5, 4];
  const chain = randomTensors(sizes, 3);
  fc.assert(
    fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }), (order) => {
      const entries = order.flatMap(
        (k, i) =>
          [
            [`n${i}.weight`, transposed(chain.get(`W${k + 1}`)!)],
            [`n${i}.bias`, chain.get(`b${k + 1}`)!],
          ] as [string, Tensor][],
      );
      const loaded = networkFromModelFile(modelFile(entries));
      return (
        loaded.layerSizes.join() === sizes.join() &&
        loaded.network.layers.every((layer, k) => layer.b === chain.get(`b${k + 1}`)!.data)
      );
    }),
    { numRuns: 50 },
  );
  t.pass();
});
