// Issue 17: "wasm-pixels" was shown in the bench's table and help but never explained.
import test from 'ava';
import { KERNELS } from '../../bench/forward-passes.js';
import { formatTable, USAGE } from '../../bench/forward.bench.js';

test('every kernel name the forward table shows is explained under it, and in --help', (t) => {
  const results = KERNELS.map((name) => ({
    name,
    batchSize: 100,
    threads: 1,
    imagesPerSecond: 1000,
    gflops: 0.09,
    rme: 1,
    samples: 5,
  }));
  const text = formatTable(results);
  const [table, note] = text.split('\n\n');
  for (const name of KERNELS) {
    t.regex(table, new RegExp(`^\\| ${name} \\|`, 'm'), `${name} has a row`);
    t.regex(note, new RegExp(`(^|[ ,])${name}[,:]`), `${name} is explained`);
  }
  t.regex(
    note,
    /wasm-pixels, native-pixels: the same engines fed the raw pixel bytes \(0-255\), the normalisation fused into their first layer/,
  );
  t.regex(USAGE, /-pixels: the\s+engine fed raw pixel bytes, the normalisation fused into its first layer/);
});
