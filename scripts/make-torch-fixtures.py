#!/usr/bin/python3
"""Regenerates the PyTorch and ONNX fixtures in test/fixtures/models/ (torch-*) with real torch.save and
torch.onnx.export. Small random networks only (never the book's weights). The tests use the committed
files and need no Python; this script records how they were made.

Needs Debian's python3-torch (1.13) and python3-onnx (1.12): apt-get install python3-torch python3-onnx
Run from the repository root: /usr/bin/python3 scripts/make-torch-fixtures.py

The hostile files are written with torch.save only, which records the callables without calling them.
Nothing here loads them back, and nothing ever should.
"""
import json
import os
import subprocess

import numpy as np
import onnx
import torch
from torch import nn

OUT = 'test/fixtures/models'
torch.manual_seed(20240611)
rng = np.random.default_rng(20240611)


class FcRelu(nn.Module):
    """fc1/fc2 names, ReLU, softmax: the shape of most PyTorch tutorials' MNIST MLP."""

    def __init__(self, sizes=(784, 16, 10)):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


class MatMulSigmoid(nn.Module):
    """Weights as (in, out) parameters used with @: exports as Reshape, MatMul + Add."""

    def __init__(self, sizes=(784, 16, 10)):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(sizes[0], sizes[1]) * 0.1)
        self.b1 = nn.Parameter(torch.randn(sizes[1]) * 0.1)
        self.w2 = nn.Parameter(torch.randn(sizes[1], sizes[2]) * 0.3)
        self.b2 = nn.Parameter(torch.randn(sizes[2]) * 0.1)

    def forward(self, x):
        x = x.view(-1, self.w1.shape[0])
        return torch.softmax(torch.sigmoid(x @ self.w1 + self.b1) @ self.w2 + self.b2, dim=-1)


def sequential():
    """nn.Sequential names (1.weight, 3.weight, 5.weight), sigmoid, a square 16x16 layer, logits out."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 10))


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned-by-os-system',))


def export(model, path, example, opset, names=('input', 'output')):
    torch.onnx.export(model, example, path, input_names=[names[0]], output_names=[names[1]],
                      dynamic_axes={names[0]: {0: 'batch'}, names[1]: {0: 'batch'}}, opset_version=opset)
    onnx.checker.check_model(onnx.load(path))


def probe(model, shape):
    x = torch.from_numpy(rng.random((3, *shape)).astype(np.float32))
    with torch.no_grad():
        y = model(x)
    return {'x': [float(v) for v in x.reshape(-1)], 'rows': 3, 'y': [float(v) for v in y.reshape(-1)]}


def main():
    os.makedirs(OUT, exist_ok=True)
    record = {'torch': torch.__version__, 'onnx': onnx.__version__, 'models': {}}

    fc = FcRelu().eval()
    torch.save(fc.state_dict(), f'{OUT}/torch-fc-relu.pt')
    export(fc, f'{OUT}/torch-fc-relu.onnx', torch.zeros(1, 784), opset=13)
    record['models']['torch-fc-relu'] = {'activation': 'relu', 'output': 'softmax', **probe(fc, (784,))}

    seq = sequential().eval()
    torch.save(seq.state_dict(), f'{OUT}/torch-seq-sigmoid.pt')
    np.savez(f'{OUT}/torch-seq-sigmoid.npz', **{k: v.numpy() for k, v in seq.state_dict().items()})
    export(seq, f'{OUT}/torch-seq-sigmoid.onnx', torch.zeros(1, 1, 28, 28), opset=11)
    record['models']['torch-seq-sigmoid'] = {'activation': 'sigmoid', 'output': 'identity', **probe(seq, (1, 28, 28))}

    mm = MatMulSigmoid().eval()
    export(mm, f'{OUT}/torch-matmul.onnx', torch.zeros(1, 784), opset=13)
    record['models']['torch-matmul'] = {'activation': 'sigmoid', 'output': 'softmax', **probe(mm, (784,))}

    # A tiny 6-5-3 network stored in every float dtype, and with non-contiguous (transposed) storage.
    tiny = FcRelu((6, 5, 3)).eval()
    state = tiny.state_dict()
    for dtype, name in [(torch.float64, 'f64'), (torch.float16, 'f16'), (torch.bfloat16, 'bf16')]:
        torch.save({k: v.to(dtype) for k, v in state.items()}, f'{OUT}/torch-tiny-{name}.pt')
    strided = {k: (v.t().contiguous().t() if v.dim() == 2 else v) for k, v in state.items()}
    assert not strided['fc1.weight'].is_contiguous()
    torch.save(strided, f'{OUT}/torch-tiny-strided.pt')
    record['models']['torch-tiny'] = {'activation': 'relu', 'output': 'softmax', **probe(tiny, (6,)),
                                      'tensors': {k: {'shape': list(v.shape), 'data': [float(x) for x in v.reshape(-1)]} for k, v in state.items()}}
    for dtype, name in [(torch.float16, 'f16'), (torch.bfloat16, 'bf16')]:
        record['models']['torch-tiny'][f'{name}_values'] = {k: [float(x) for x in v.to(dtype).float().reshape(-1)] for k, v in state.items()}

    # Files nnpipe must refuse.
    torch.save(fc, f'{OUT}/torch-whole-module.pt')  # a pickled module: names __main__.FcRelu
    torch.save({'fc1.weight': Evil()}, f'{OUT}/torch-evil-os-system.pt')  # a REDUCE of posix.system
    torch.save({'epoch': 3, 'model_state_dict': tiny.state_dict()}, f'{OUT}/torch-checkpoint.pt')
    tanh = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).eval()
    export(tanh, f'{OUT}/torch-tanh.onnx', torch.zeros(1, 6), opset=13)

    with open(f'{OUT}/torch-fixtures.json', 'w') as f:
        json.dump(record, f, indent=1)
        f.write('\n')
    subprocess.run(['sha256sum'] + sorted(f'{OUT}/{n}' for n in os.listdir(OUT) if n.startswith('torch-')), check=True)


if __name__ == '__main__':
    main()
