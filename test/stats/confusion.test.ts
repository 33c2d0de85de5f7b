// ConfusionMatrix: counts, accuracy, per-class precision/recall, unlabeled rows, invariants.
import test from 'ava';
import fc from 'fast-check';
import { ConfusionMatrix } from '../../src/stats/confusion.js';

/** A small 3-class example worked out by hand. */
function example(): ConfusionMatrix {
  const m = new ConfusionMatrix(3);
  // true 0: predicted 0,0,1     true 1: predicted 1     true 2: predicted 0,2,2,1
  const labels = Int16Array.from([0, 0, 0, 1, 2, 2, 2, 2]);
  const predicted = Int32Array.from([0, 0, 1, 1, 0, 2, 2, 1]);
  m.addBatch(labels, predicted, labels.length);
  return m;
}

test('counts land in [true][predicted]', (t) => {
  t.deepEqual(example().toArray(), [
    [2, 1, 0],
    [0, 1, 0],
    [1, 1, 2],
  ]);
});

test('total, correct and accuracy', (t) => {
  const m = example();
  t.is(m.total, 8);
  t.is(m.correct, 5);
  t.is(m.accuracy(), 5 / 8);
});

test('precision and recall per class, by hand', (t) => {
  const [c0, c1, c2] = example().perClass();
  // class 0: support 3 (row), predicted 3 (column: 2 + 0 + 1), correct 2
  t.deepEqual(c0, { class: 0, support: 3, predicted: 3, correct: 2, precision: 2 / 3, recall: 2 / 3, accuracy: 2 / 3 });
  // class 1: support 1, predicted 3 (1 + 1 + 1), correct 1
  t.deepEqual(c1, { class: 1, support: 1, predicted: 3, correct: 1, precision: 1 / 3, recall: 1, accuracy: 1 });
  // class 2: support 4, predicted 2, correct 2
  t.deepEqual(c2, { class: 2, support: 4, predicted: 2, correct: 2, precision: 1, recall: 0.5, accuracy: 0.5 });
});

test('a class never seen and never predicted has null precision and recall', (t) => {
  const m = new ConfusionMatrix(3);
  m.add(0, 0);
  const c2 = m.perClass()[2];
  t.is(c2.support, 0);
  t.is(c2.precision, null);
  t.is(c2.recall, null);
  t.is(c2.accuracy, null);
});

test('unlabeled rows (-1) are ignored', (t) => {
  const m = new ConfusionMatrix(10);
  m.addBatch(Int16Array.from([-1, 3, -1, 4]), Int32Array.from([7, 3, 2, 5]), 4);
  m.add(-1, 9);
  t.is(m.total, 2);
  t.is(m.correct, 1);
  t.is(m.accuracy(), 0.5);
});

test('accuracy is null when nothing labeled', (t) => {
  const m = new ConfusionMatrix(10);
  t.is(m.accuracy(), null);
  m.addBatch(Int16Array.from([-1, -1]), Int32Array.from([1, 2]), 2);
  t.is(m.accuracy(), null);
  t.is(m.total, 0);
});

test('addBatch only reads the first `rows` entries', (t) => {
  const m = new ConfusionMatrix(2);
  m.addBatch(Int16Array.from([1, 0, 0]), Int32Array.from([1, 1, 1]), 1);
  t.deepEqual(m.toArray(), [
    [0, 0],
    [0, 1],
  ]);
});

test('out-of-range classes and bad sizes throw', (t) => {
  const m = new ConfusionMatrix(10);
  t.throws(() => m.add(10, 0), { instanceOf: RangeError });
  t.throws(() => m.add(0, -1), { instanceOf: RangeError });
  t.throws(() => m.add(1.5, 1), { instanceOf: RangeError });
  t.throws(() => m.addBatch(new Int16Array(2), new Int32Array(2), 3), { instanceOf: RangeError });
  t.throws(() => new ConfusionMatrix(0), { instanceOf: RangeError });
});

test('toArray is a copy', (t) => {
  const m = example();
  m.toArray()[0][0] = 99;
  t.is(m.toArray()[0][0], 2);
});

test('property: total = sum of the matrix, correct = trace, accuracy in [0, 1], per-class sums agree', (t) => {
  const classes = 6;
  const row = fc.tuple(fc.integer({ min: -1, max: classes - 1 }), fc.integer({ min: 0, max: classes - 1 }));
  fc.assert(
    fc.property(fc.array(row, { maxLength: 300 }), (pairs) => {
      const m = new ConfusionMatrix(classes);
      m.addBatch(Int16Array.from(pairs.map(([l]) => l)), Int32Array.from(pairs.map(([, p]) => p)), pairs.length);
      const matrix = m.toArray();
      const sum = matrix.flat().reduce((a, b) => a + b, 0);
      const trace = matrix.reduce((a, r, i) => a + r[i], 0);
      const labeled = pairs.filter(([l]) => l !== -1).length;
      const accuracy = m.accuracy();
      const perClass = m.perClass();
      return (
        m.total === sum &&
        sum === labeled &&
        m.correct === trace &&
        (labeled === 0 ? accuracy === null : accuracy !== null && accuracy >= 0 && accuracy <= 1) &&
        perClass.reduce((a, c) => a + c.support, 0) === sum &&
        perClass.reduce((a, c) => a + c.predicted, 0) === sum &&
        perClass.reduce((a, c) => a + c.correct, 0) === trace
      );
    }),
  );
  t.pass();
});
