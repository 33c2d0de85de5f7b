// From a model file's named tensors to the dense layers of a network: in order, each weight (in, out).
//
// Names (every format): the book's W1/b1, W2/b2, ... (numpy's (in, out) layout), or PyTorch state_dict
// names PREFIX.weight/PREFIX.bias (fc1.weight, 0.weight of a Sequential, layers.0.weight, ...; PyTorch's
// (out, in) layout). A layer's bias says which dimension of its weight is the output, so a weight stored
// the other way round is transposed (and the notes say so); a square weight with a square bias follows its
// names' convention. The layers are taken in the names' natural order (fc2 before fc10) when that chains
// (each layer's inputs = the previous layer's outputs), else in the one order in which their shapes chain;
// no order, or several, is refused with a message saying how to fix the file.
// A graph (ONNX) wires its layers itself: layersFromGraph follows it.
import type { DenseLayer, LayerSource, ModelGraph, Tensor } from './types.js';

type Fail = (problem: string) => never;

export interface LayerChain {
  layers: DenseLayer[];
  sources: LayerSource[];
  notes: string[];
}

type Layout = 'in,out' | 'out,in';

/** One layer's tensors, oriented: `inputs`/`outputs` as the bias says. */
interface NamedLayer {
  /** What orders the layers by name: '2' for W2/b2, 'fc2' for fc2.weight. */
  key: string;
  weightName: string;
  biasName: string;
  weight: Tensor;
  bias: Tensor;
  convention: Layout;
  inputs: number;
  outputs: number;
  transposed: boolean;
}

const BOOK_NAME = /^([Wb])([1-9][0-9]*)$/;
const TORCH_NAME = /^(.+)\.(weight|bias)$/;
export const NAMING_TEXT =
  'W1, b1, ..., Wn, bn ((inputs, outputs) weights) or PyTorch state_dict names such as fc1.weight, fc1.bias or ' +
  '0.weight, 0.bias ' +
  '((outputs, inputs) weights)';
const HOW_TO_ORDER = 'name the layers so that their order shows (fc1, fc2, ... or W1, W2, ...)';
/** Bounds the search for an order of the layers by their shapes (a hostile file could make it exponential). */
const ORDER_SEARCH_STEPS = 100_000;

export function layersFromStateDict(tensors: Map<string, Tensor>, fail: Fail): LayerChain {
  const named = groupByName(tensors, fail).map((layer) => orient(layer, fail));
  const notes: string[] = [];
  const order = orderByChain(named, notes, fail);
  const layers = order.map((layer) =>
    denseLayer(layer.weightName, layer.weight, layer.transposed, layer.biasName, layer.bias.data, fail),
  );
  const sources = order.map((layer) => ({
    weight: layer.weightName,
    bias: layer.biasName,
    storedShape: [...layer.weight.shape],
    transposed: layer.transposed,
  }));
  for (const layer of order) {
    const [rows, cols] = layer.weight.shape;
    if (rows === cols) {
      const layout =
        layer.convention === 'out,in'
          ? "(outputs, inputs), PyTorch's layout for these names"
          : '(inputs, outputs), the layout of W1/b1 names';
      notes.push(`${layer.weightName} (${rows}, ${cols}) is square: read as ${layout}`);
    } else if (layer.transposed) {
      notes.push(
        `${layer.weightName} (${rows}, ${cols}) is (outputs, inputs), as its bias ${layer.biasName} has ` +
          `${layer.outputs} values: transposed`,
      );
    }
  }
  return { layers, sources, notes };
}

export function layersFromGraph(tensors: Map<string, Tensor>, graph: ModelGraph, fail: Fail): LayerChain {
  const chain: LayerChain = { layers: [], sources: [], notes: [...graph.notes] };
  graph.layers.forEach((layer, k) => {
    const where = `${layer.op} node ${JSON.stringify(layer.node)}`;
    const weight = tensors.get(layer.weight)!;
    if (weight.shape.length !== 2)
      fail(`${where}: weight ${layer.weight} has shape (${weight.shape.join(', ')}); expected 2-D`);
    const [rows, cols] = weight.shape;
    const [inputs, outputs] = layer.weightOutIn ? [cols, rows] : [rows, cols];
    const previous = k === 0 ? graph.inputFeatures : chain.layers[k - 1].W.cols;
    if (previous !== null && inputs !== previous) {
      fail(
        `${where}: weight ${layer.weight} (${rows}, ${cols}) takes ${inputs} inputs, but ` +
          `${k === 0 ? 'the graph input has' : 'the layer before gives'}` +
          ` ${previous}`,
      );
    }
    // Y = alpha * X W + beta * C, folded into the weights once: the forward pass is then the same for every op.
    const scaled =
      layer.alpha === 1 ? weight : { shape: weight.shape, data: weight.data.map((value) => value * layer.alpha) };
    const bias = graphBias(layer.bias === null ? null : tensors.get(layer.bias)!, layer.bias, outputs, where, fail).map(
      (value) => value * layer.beta,
    );
    const dense = denseLayer(layer.weight, scaled, layer.weightOutIn, layer.bias ?? '(none)', bias, fail);
    if (layer.alpha !== 1 || layer.beta !== 1)
      chain.notes.push(
        `${where}: alpha ${layer.alpha} and beta ${layer.beta} folded into ${layer.weight} and its bias`,
      );
    if (layer.weightOutIn)
      chain.notes.push(`${where} has transB=1: ${layer.weight} (${rows}, ${cols}) is (outputs, inputs), transposed`);
    if (layer.bias === null) chain.notes.push(`${where} has no bias: zeros`);
    chain.layers.push(dense);
    chain.sources.push({
      weight: layer.weight,
      bias: layer.bias,
      storedShape: [rows, cols],
      transposed: layer.weightOutIn,
    });
  });
  return chain;
}

/** A graph layer's bias as `outputs` values: none (zeros), (outputs), (1, outputs), or one value broadcast. */
function graphBias(bias: Tensor | null, name: string | null, outputs: number, where: string, fail: Fail): Float32Array {
  if (!bias) return new Float32Array(outputs);
  const { shape, data } = bias;
  if (data.length === 1 && shape.every((dim) => dim === 1)) return new Float32Array(outputs).fill(data[0]);
  if ((shape.length === 1 && shape[0] === outputs) || (shape.length === 2 && shape[0] === 1 && shape[1] === outputs))
    return data;
  return fail(
    `${where}: bias ${name} has shape (${shape.join(', ')}); expected (${outputs}), (1, ${outputs}) or a single value`,
  );
}

/** Groups the tensors into layers by name, checking the names and the ranks. */
function groupByName(
  tensors: Map<string, Tensor>,
  fail: Fail,
): Omit<NamedLayer, 'inputs' | 'outputs' | 'transposed'>[] {
  const names = [...tensors.keys()];
  if (names.length === 0) fail(`no tensors found; a network holds ${NAMING_TEXT}`);
  const groups = new Map<string, { weight?: string; bias?: string }>();
  const families = new Map<Layout, string>();
  for (const name of names) {
    const book = BOOK_NAME.exec(name);
    const torch = book ? null : TORCH_NAME.exec(name);
    if (!book && !torch) fail(unexpectedTensor(name));
    const [key, role, family]: [string, 'weight' | 'bias', Layout] = book
      ? [book[2], book[1] === 'W' ? 'weight' : 'bias', 'in,out']
      : [torch![1], torch![2] as 'weight' | 'bias', 'out,in'];
    if (!families.has(family)) families.set(family, name);
    const group = groups.get(key) ?? {};
    group[role] = name;
    groups.set(key, group);
  }
  if (families.size > 1)
    fail(
      `the file mixes W1/b1 names (${families.get('in,out')}) with PyTorch names (${families.get('out,in')}); use ` +
        `one convention`,
    );
  const convention = [...families.keys()][0];
  if (convention === 'in,out') {
    // The book's numbering has no gaps: W1..Wn, b1..bn.
    for (let k = 1; k <= groups.size; k++) {
      for (const role of ['W', 'b'])
        if (!tensors.has(`${role}${k}`)) fail(`tensor ${role}${k} is missing (found ${names.join(', ')})`);
    }
  }
  return [...groups].map(([key, group]) => {
    if (!group.weight)
      return fail(
        `tensor ${group.bias} has no weight ${convention === 'in,out' ? `W${key}` : `${key}.weight`} (found ` +
          `${names.join(', ')})`,
      );
    if (!group.bias)
      return fail(
        `tensor ${group.weight} has no bias ${key}.bias; layers without a bias are not supported (store one of zeros)`,
      );
    const weight = tensors.get(group.weight)!;
    const bias = tensors.get(group.bias)!;
    const layout = convention === 'in,out' ? '(inputs, outputs)' : '(outputs, inputs)';
    if (weight.shape.length !== 2)
      fail(`tensor ${group.weight} has shape (${weight.shape.join(', ')}); expected 2-D ${layout}`);
    if (weight.shape.includes(0))
      fail(
        `tensor ${group.weight} has shape (${weight.shape.join(', ')}); a layer needs at least one input and one ` +
          `output`,
      );
    if (!(bias.shape.length === 1 || (bias.shape.length === 2 && bias.shape[0] === 1))) {
      fail(`tensor ${group.bias} has shape (${bias.shape.join(', ')}); a bias is (outputs) or (1, outputs)`);
    }
    return { key, weightName: group.weight, biasName: group.bias, weight, bias, convention };
  });
}

function unexpectedTensor(name: string): string {
  const hint = /\.(running_mean|running_var|num_batches_tracked)$/.test(name)
    ? ': batch normalisation is not supported (fold it into the layer before, or drop it)'
    : ` (a network holds only ${NAMING_TEXT}; rename the tensors, or convert the file with a script that does)`;
  return `unexpected tensor ${name}${hint}`;
}

/**
 * Which dimension of the weight is the output: the one its bias matches; for a square weight, the names' convention.
 */
function orient(layer: Omit<NamedLayer, 'inputs' | 'outputs' | 'transposed'>, fail: Fail): NamedLayer {
  const [rows, cols] = layer.weight.shape;
  const n = layer.bias.data.length;
  const storedOutIn = rows === cols ? layer.convention === 'out,in' : n === rows;
  if (n !== cols && n !== rows) {
    fail(
      `tensor ${layer.biasName} has ${n} values, matching neither dimension of ${layer.weightName} (${rows}` +
        `, ${cols}); a layer's bias has one value per output`,
    );
  }
  return { ...layer, inputs: storedOutIn ? cols : rows, outputs: storedOutIn ? rows : cols, transposed: storedOutIn };
}

/** The layers in the names' order if that chains, else in the one order their shapes allow. */
function orderByChain(layers: NamedLayer[], notes: string[], fail: Fail): NamedLayer[] {
  const byName = [...layers].sort((a, b) => naturalCompare(a.key, b.key));
  if (chains(byName)) return byName;
  const search = chainOrders(layers);
  if (search.exhausted)
    fail(`cannot work out the order of the ${layers.length} layers from their shapes; ${HOW_TO_ORDER}`);
  if (search.orders.length === 1) {
    notes.push(
      `layers ordered by their shapes (${search.orders[0].map((layer) => layer.weightName).join(', ')}); the names' ` +
        `order does not chain`,
    );
    return search.orders[0];
  }
  if (search.orders.length > 1) {
    const [a, b] = search.orders.map((order) => order.map((layer) => layer.weightName).join(', '));
    fail(
      `the names' order does not chain, and the layers' shapes chain in more than one order (${a}; or ${b}` +
        `); ${HOW_TO_ORDER}`,
    );
  }
  const at = byName.findIndex((layer, k) => k > 0 && layer.inputs !== byName[k - 1].outputs);
  const [before, after] = [byName[at - 1], byName[at]];
  return fail(
    `the layers do not chain: ${describeLayer(before)} gives ${before.outputs} outputs, but the next layer, ` +
      `${describeLayer(after)}` +
      `, takes ${after.inputs} inputs ` +
      '(each layer takes as many inputs as the one before gives outputs, in the order of the names or any other)',
  );
}

function describeLayer(layer: NamedLayer): string {
  return `${layer.weightName} (${layer.weight.shape.join(', ')}${layer.transposed ? ', read as (outputs, inputs)' : ''})`;
}

function chains(order: NamedLayer[]): boolean {
  return order.every((layer, k) => k === 0 || layer.inputs === order[k - 1].outputs);
}

/** Up to two orders in which the layers chain, by depth-first search within ORDER_SEARCH_STEPS. */
function chainOrders(layers: NamedLayer[]): { orders: NamedLayer[][]; exhausted: boolean } {
  const orders: NamedLayer[][] = [];
  const path: NamedLayer[] = [];
  const used = new Array<boolean>(layers.length).fill(false);
  let steps = 0;
  const visit = (): boolean => {
    if (path.length === layers.length) {
      orders.push([...path]);
      return orders.length < 2;
    }
    for (let i = 0; i < layers.length; i++) {
      if (used[i] || (path.length > 0 && layers[i].inputs !== path[path.length - 1].outputs)) continue;
      if (++steps > ORDER_SEARCH_STEPS) return false;
      used[i] = true;
      path.push(layers[i]);
      const goOn = visit();
      path.pop();
      used[i] = false;
      if (!goOn) return false;
    }
    return true;
  };
  visit();
  return { orders, exhausted: steps > ORDER_SEARCH_STEPS };
}

/** Compares names with their digit runs as numbers: fc2 < fc10, 2.weight < 10.weight. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/([0-9]+)/);
  const pb = b.split(/([0-9]+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const numeric = i % 2 === 1; // split() puts the captured digit runs at odd indexes
    if (numeric && Number(pa[i]) !== Number(pb[i])) return Number(pa[i]) - Number(pb[i]);
    return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** A dense layer from a stored weight (transposed when stored (out, in)) and its bias; every value finite. */
function denseLayer(
  weightName: string,
  weight: Tensor,
  transposed: boolean,
  biasName: string,
  bias: Float32Array,
  fail: Fail,
): DenseLayer {
  const [rows, cols] = weight.shape;
  if (weight.data.length !== rows * cols)
    fail(`tensor ${weightName} holds ${weight.data.length} values, shape needs ${rows * cols}`);
  checkFinite(weightName, weight.data, cols, fail);
  checkFinite(biasName, bias, 0, fail);
  if (!transposed) return { W: { rows, cols, data: weight.data }, b: bias };
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = weight.data[r * cols + c];
  return { W: { rows: cols, cols: rows, data }, b: bias };
}

/** Refuses NaN and infinities, naming the tensor and the first bad index (with its row and column when 2-D). */
function checkFinite(name: string, data: Float32Array, cols: number, fail: Fail): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const where = cols > 0 ? `index ${i} (row ${Math.floor(i / cols)}, column ${i % cols})` : `index ${i}`;
      fail(`tensor ${name} has a non-finite value (${data[i]}) at ${where}`);
    }
  }
}
