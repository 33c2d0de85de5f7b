// batchCapacity is the WebAssembly engine's own layout: an engine for maxRows rows is built, one for a
// row more is refused by the engine itself. (Building at the bound reserves 1 GiB of WebAssembly
// memory; only the pages written are touched.)
import test from 'ava';
import { batchCapacity, engineMemoryBytes } from '../../src/nn/kernels/batch-capacity.js';
import { loadForwardKernel, WasmForwardEngine } from '../../src/nn/kernels/index.js';
import type { Network } from '../../src/nn/types.js';

const kernel = await loadForwardKernel();

for (const sizes of [
  [784, 50, 100, 10],
  [784, 4000, 10],
  [3, 5, 2],
]) {
  (kernel.ok ? test.serial : test.skip)(
    `${sizes.join('-')}: the engine takes maxRows and refuses maxRows + 1 (skipped without the built kernel)`,
    (t) => {
      const { maxRows, bytesPerRow } = batchCapacity(sizes);
      t.true(maxRows > 0);
      t.true(engineMemoryBytes(sizes, maxRows) <= 2 ** 30);
      t.true(engineMemoryBytes(sizes, maxRows + 1) > 2 ** 30);
      t.is(bytesPerRow, (sizes[0] + sizes.slice(1).reduce((sum, n) => sum + Math.ceil(n / 4) * 4, 0)) * 4);
      if (!kernel.ok) return;
      const layers = sizes.slice(1).map((cols, k) => ({
        W: { rows: sizes[k], cols, data: new Float32Array(sizes[k] * cols).fill(0.01) },
        b: new Float32Array(cols),
      }));
      const network: Network = { layers, activation: 'sigmoid', output: 'softmax' };
      t.notThrows(() => new WasmForwardEngine(kernel.module, network, maxRows));
      t.throws(() => new WasmForwardEngine(kernel.module, network, maxRows + 1), {
        instanceOf: RangeError,
        message: /needs \d+ bytes of WebAssembly memory/,
      });
    },
  );
}

test('the default model: 283,108 rows, the figure in --help and the README', (t) => {
  t.is(batchCapacity([784, 50, 100, 10]).maxRows, 283_108);
  t.is(engineMemoryBytes([784, 50, 100, 10], 300_000), 1_137_795_328, 'the figure the engine reported in issue 12');
});
