// ONNX graphs: the committed torch.onnx.export fixtures compute what torch computed; the tests' writer's
// Gemm and MatMul + Add graphs give exactly the network they were written from, whatever the storage
// field or the optional parts; anything outside a plain MLP chain is refused, naming the node.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forward } from '../../src/nn/forward.js';
import { loadModel } from '../../src/nn/load-model.js';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { randomTensors } from '../helpers/models.js';
import {
  encodeOnnx,
  floatAttribute,
  int64Tensor,
  intAttribute,
  layersOf,
  onnxModel,
  onnxModelObject,
  tensorAttribute,
  type ModelObject,
  type OnnxWriterOptions,
} from '../helpers/onnx-writer.js';
import { assertModelError, modelFixture, tempDir } from './model-test-helpers.js';

const probes = (
  JSON.parse(readFileSync(modelFixture('torch-fixtures.json'), 'utf8')) as {
    models: Record<string, { rows: number; x: number[]; y: number[] }>;
  }
).models;

for (const [name, activation, output] of [
  ['torch-fc-relu', 'relu', 'softmax'],
  ['torch-seq-sigmoid', 'sigmoid', 'identity'],
  ['torch-matmul', 'sigmoid', 'softmax'],
] as const) {
  test(
    `${name}.onnx (torch.onnx.export) computes what torch computed, with ${activation} and ${output} from the ` +
      `graph`,
    async (t) => {
      const model = await loadModel(modelFixture(`${name}.onnx`));
      t.is(model.format, 'onnx');
      t.is(model.network.activation, activation);
      t.is(model.network.output, output);
      t.deepEqual(model.settingSources, { activation: 'graph', output: 'graph' });
      const probe = probes[name];
      const y = forward(model.network, Float32Array.from(probe.x), probe.rows);
      const difference = Math.max(...probe.y.map((value, i) => Math.abs(value - y[i])));
      t.log(`largest |ours - torch| = ${difference.toExponential(2)}`);
      t.true(difference < 1e-5);
    },
  );
}

const tensors = randomTensors([12, 7, 5, 3], 11);
const layers = layersOf(tensors);

async function load(t: import('ava').ExecutionContext, bytes: Buffer) {
  const path = join(await tempDir(t), 'model.onnx');
  await writeFile(path, bytes);
  return { path, model: await loadModel(path) };
}

async function refuses(t: import('ava').ExecutionContext, options: OnnxWriterOptions, ...patterns: RegExp[]) {
  const path = join(await tempDir(t), 'bad.onnx');
  await writeFile(path, onnxModel(layers, options));
  await assertModelError(t, () => loadModel(path), path, ...patterns);
}

/** The node list of a model, for edits. */
const nodes = (model: ModelObject) => model.graph.node;

for (const shape of ['gemm', 'matmul'] as const) {
  for (const floatData of [false, true]) {
    test(`${shape} graph (${floatData ? 'float_data' : 'raw_data'}): exactly the network it was written from`, async (t) => {
      const { model } = await load(t, onnxModel(layers, { shape, floatData, activation: 'Relu', output: 'Softmax' }));
      t.deepEqual(model.layerSizes, [12, 7, 5, 3]);
      model.network.layers.forEach((layer, k) => {
        t.deepEqual(layer.W.data, tensors.get(`W${k + 1}`)!.data);
        t.deepEqual(layer.b, tensors.get(`b${k + 1}`)!.data);
      });
      t.is(model.network.activation, 'relu');
      t.deepEqual(
        model.layerSources.map((source) => source.transposed),
        [shape === 'gemm', shape === 'gemm', shape === 'gemm'],
      );
    });
  }
}

test('opset 11 Softmax without axis, Sigmoid output, no hidden function, Identity nodes and metadata_props', async (t) => {
  const softmax11 = await load(
    t,
    onnxModel(layers, {
      shape: 'gemm',
      opset: 11,
      mutate: (m) => nodes(m).forEach((node) => (node.attribute = node.op_type === 'Softmax' ? [] : node.attribute)),
    }),
  );
  t.is(softmax11.model.network.output, 'softmax');
  const sigmoid = await load(
    t,
    onnxModel(layers, {
      shape: 'matmul',
      activation: null,
      output: 'Sigmoid',
      metadata: { normalize: 'none', note: 'kept' },
    }),
  );
  t.is(sigmoid.model.network.activation, 'identity');
  t.is(sigmoid.model.network.output, 'sigmoid');
  t.is(sigmoid.model.normalize, 'none');
  t.is(sigmoid.model.metadata.note, 'kept');
  const identities = await load(
    t,
    onnxModel(layers, {
      shape: 'gemm',
      mutate: (m) => {
        nodes(m)[0].input[0] = 'through';
        nodes(m).unshift({ name: 'id', op_type: 'Identity', input: ['input'], output: ['through'] });
      },
    }),
  );
  t.deepEqual(identities.model.network.layers[0].W.data, tensors.get('W1')!.data);
});

test('Gemm without C has a zero bias; a single-value bias is broadcast; Add(bias, X) is read too', async (t) => {
  const noBias = await load(t, onnxModel(layers, { shape: 'gemm', mutate: (m) => nodes(m)[0].input.pop() }));
  t.deepEqual(noBias.model.network.layers[0].b, new Float32Array(7));
  t.is(noBias.model.layerSources[0].bias, null);
  const scalar = await load(
    t,
    onnxModel(layers, {
      shape: 'gemm',
      mutate: (m) => {
        const bias = m.graph.initializer.find((tensor) => tensor.name === 'fc1.bias')!;
        Object.assign(bias, { dims: [1], raw_data: Buffer.from(Float32Array.of(0.25).buffer) });
      },
    }),
  );
  t.deepEqual(scalar.model.network.layers[0].b, new Float32Array(7).fill(0.25));
  const reversed = await load(t, onnxModel(layers, { shape: 'matmul', mutate: (m) => nodes(m)[1].input.reverse() }));
  t.deepEqual(reversed.model.network.layers[0].b, tensors.get('b1')!.data);
});

test("Gemm's alpha and beta are folded into the weights and biases, and noted", async (t) => {
  const { model } = await load(
    t,
    onnxModel(layers, {
      shape: 'gemm',
      mutate: (m) =>
        (nodes(m)[0].attribute = [floatAttribute('alpha', 2), floatAttribute('beta', 0.5), intAttribute('transB', 1)]),
    }),
  );
  t.deepEqual(
    model.network.layers[0].W.data,
    tensors.get('W1')!.data.map((v) => v * 2),
  );
  t.deepEqual(
    model.network.layers[0].b,
    tensors.get('b1')!.data.map((v) => v * 0.5),
  );
  t.true(model.notes.some((note) => /alpha 2 and beta 0\.5 folded into fc1\.weight/.test(note)));
});

test('FLOAT16 weights in int32_data and DOUBLE weights in double_data', async (t) => {
  const half = Uint16Array.of(0x3c00, 0xc000, 0x3800); // 1, -2, 0.5
  const { model } = await load(
    t,
    onnxModel(
      [{ W: { shape: [3, 1], data: Float32Array.of(1, -2, 0.5) }, b: { shape: [1], data: Float32Array.of(0.125) } }],
      {
        shape: 'matmul',
        output: null,
        mutate: (m) => {
          Object.assign(m.graph.initializer[0], { data_type: 10, raw_data: undefined, int32_data: [...half] });
          Object.assign(m.graph.initializer[1], { data_type: 11, raw_data: undefined, double_data: [0.125] });
        },
      },
    ),
  );
  t.deepEqual(model.network.layers[0].W.data, Float32Array.of(1, -2, 0.5));
  t.deepEqual(model.network.layers[0].b, Float32Array.of(0.125));
});

test('a Flatten of (batch, 1, 3, 4) and a Reshape to (-1, 12) of the input are read', async (t) => {
  const flatten = await load(t, onnxModel(layers, { shape: 'gemm', flattenFrom: [1, 3, 4] }));
  t.deepEqual(flatten.model.layerSizes, [12, 7, 5, 3]);
  const reshape = await load(
    t,
    onnxModel(layers, {
      shape: 'matmul',
      mutate: (m) => {
        m.graph.node[0].input[0] = 'rows';
        m.graph.node.unshift(
          {
            name: 'shape',
            op_type: 'Constant',
            input: [],
            output: ['target'],
            attribute: [tensorAttribute('value', int64Tensor('', [-1, 12]))],
          },
          { name: 'reshape', op_type: 'Reshape', input: ['input', 'target'], output: ['rows'] },
        );
      },
    }),
  );
  t.deepEqual(reshape.model.layerSizes, [12, 7, 5, 3]);
});

const refusals: [string, OnnxWriterOptions, ...RegExp[]][] = [
  [
    'an unsupported op, naming it, its node and what is supported',
    { shape: 'gemm', activation: 'Relu', mutate: (m) => (nodes(m)[1].op_type = 'Tanh') },
    /unsupported op Tanh at node "\/Relu_1" \(Tanh\); nnpipe reads a chain of Gemm or MatMul \+ Add/,
  ],
  [
    'an op from another domain',
    { shape: 'gemm', mutate: (m) => (nodes(m)[1].domain = 'com.microsoft') },
    /unsupported op Sigmoid from the domain com\.microsoft/,
  ],
  [
    'external data',
    {
      shape: 'gemm',
      mutate: (m) =>
        Object.assign(m.graph.initializer[0], {
          raw_data: undefined,
          data_location: 1,
          external_data: [{ key: 'location', value: 'weights.bin' }],
        }),
    },
    /initialiser fc1\.weight keeps its data in an external file \(weights\.bin\).*save_as_external_data=False/,
  ],
  [
    'a second data input',
    { shape: 'gemm', mutate: (m) => m.graph.input.push({ name: 'mask' }) },
    /the graph has 2 data inputs \(input, mask\)/,
  ],
  [
    'a branch off the chain',
    { shape: 'gemm', mutate: (m) => (nodes(m)[1].input[0] = 'input') },
    /node "\/Sigmoid_1" \(Sigmoid\) does not continue the chain: its input "input" is not "\/fc1\/Gemm_output"/,
  ],
  [
    'Relu after the last layer',
    { shape: 'gemm', output: 'Relu' as never },
    /node "\/Relu_3" \(Relu\) after the last layer is not supported; the output function may be Softmax, Sigmoid or none/,
  ],
  [
    'different hidden functions',
    { shape: 'gemm', mutate: (m) => (nodes(m)[1].op_type = 'Relu') },
    /the hidden layers use different functions \(relu, sigmoid\)/,
  ],
  [
    'Softmax between layers',
    { shape: 'gemm', activation: 'Softmax' as never },
    /node "\/Softmax_1" \(Softmax\) between layers 1 and 2 is not supported/,
  ],
  [
    'Softmax over the batch',
    { shape: 'gemm', mutate: (m) => (nodes(m).at(-1)!.attribute = [intAttribute('axis', 0)]) },
    /normalises over axis 0/,
  ],
  [
    'transA=1',
    { shape: 'gemm', mutate: (m) => nodes(m)[0].attribute!.push(intAttribute('transA', 1)) },
    /has transA=1/,
  ],
  [
    'an Add that is not a MatMul bias',
    {
      shape: 'gemm',
      mutate: (m) => Object.assign(nodes(m)[1], { op_type: 'Add', input: ['/fc1/Gemm_output', 'fc1.bias'] }),
    },
    /node "\/Sigmoid_1" \(Add\) does not follow a MatMul; nnpipe supports Add only as the bias of a MatMul/,
  ],
  [
    'a weight that is not stored in the file',
    { shape: 'gemm', mutate: (m) => (nodes(m)[0].input[1] = 'computed') },
    /its input B \(weight\) "computed" is not stored in the file/,
  ],
  [
    'an attribute nnpipe does not know',
    { shape: 'gemm', mutate: (m) => nodes(m)[0].attribute!.push(intAttribute('broadcast', 1)) },
    /has the attribute broadcast, which nnpipe does not support/,
  ],
  [
    'a graph output that is not the end of the chain',
    { shape: 'gemm', mutate: (m) => (m.graph.output[0].name = '/fc1/Gemm_output') },
    /the graph's output \/fc1\/Gemm_output is not the end of the chain/,
  ],
  [
    'an image input without Flatten',
    {
      shape: 'gemm',
      mutate: (m) =>
        (m.graph.input[0] = onnxModelObject(layers, { shape: 'gemm', flattenFrom: [1, 3, 4] }).graph.input[0]),
    },
    /the input input has shape \(batch, 1, 3, 4\) and reaches node "\/fc1\/Gemm" \(Gemm\) without a Flatten/,
  ],
  [
    'a Flatten between layers',
    { shape: 'gemm', mutate: (m) => (nodes(m)[1].op_type = 'Flatten') },
    /Flatten\) reshapes data between layers/,
  ],
  [
    'an INT64 weight',
    { shape: 'gemm', mutate: (m) => Object.assign(m.graph.initializer[0], { data_type: 7 }) },
    /tensor fc1\.weight has data type INT64; only FLOAT, DOUBLE, FLOAT16 and BFLOAT16/,
  ],
  [
    'a layer that does not chain',
    {
      shape: 'gemm',
      mutate: (m) => Object.assign(m.graph.initializer[2], { dims: [5, 6], raw_data: Buffer.alloc(120) }),
    },
    /Gemm node "\/fc2\/Gemm": weight fc2\.weight \(5, 6\) takes 6 inputs, but the layer before gives 7/,
  ],
  [
    'metadata that contradicts the graph',
    { shape: 'gemm', metadata: { activation: 'relu' } },
    /metadata activation 'relu' contradicts the graph, whose activation is sigmoid/,
  ],
];
for (const [what, options, ...patterns] of refusals) {
  test(`refused: ${what}`, async (t) => {
    await refuses(t, options, ...patterns);
  });
}

test('refused: bytes that are not an ONNX model, or a truncated one', async (t) => {
  const dir = await tempDir(t);
  const whole = encodeOnnx(onnxModelObject(layers, { shape: 'gemm' }));
  for (const [name, bytes] of [
    ['random.onnx', Buffer.from('this is not a protobuf at all, just some text\n')],
    ['cut.onnx', whole.subarray(0, whole.length - 100)],
  ] as const) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    await assertModelError(
      t,
      () => readModelFile(path),
      path,
      /onnx: (not a readable ONNX model|the file holds no graph)/,
    );
  }
});
