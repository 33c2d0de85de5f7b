// Hostile and malformed pickles are refused with a ModelError naming the file and the global or tensor.
// The evil-*.pkl fixtures were made with pickle.dumps only and are never unpickled by anything.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readModelFile } from '../../src/nn/model-files/index.js';
import { decodePickle } from '../../src/nn/model-files/pickle.js';
import { assertModelError, modelFixture, tempDir } from './model-test-helpers.js';

test('__reduce__ to os.system (GLOBAL opcode) is refused, naming posix.system', async (t) => {
  const path = modelFixture('evil-os-system-p2.pkl');
  await assertModelError(t, () => readModelFile(path), path, /forbidden global posix\.system/);
});

test('__reduce__ to builtins.eval (STACK_GLOBAL opcode) is refused, naming builtins.eval', async (t) => {
  const path = modelFixture('evil-eval-p4.pkl');
  await assertModelError(t, () => readModelFile(path), path, /forbidden global builtins\.eval/);
});

test('a forbidden global hidden after valid arrays is refused, naming subprocess.Popen', async (t) => {
  const path = modelFixture('evil-popen-after-arrays-p3.pkl');
  await assertModelError(t, () => readModelFile(path), path, /forbidden global subprocess\.Popen/);
});

test('refusal comes before any of our code runs: a bad _reconstruct call before os.system still reports os.system', (t) => {
  // _reconstruct(None) (which pass 2 would reject as malformed), POP, then os.system('echo')
  const bytes = Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from('cnumpy.core.multiarray\n_reconstruct\nN\x85R0cos\nsystem\nX\x04\x00\x00\x00echo\x85R.', 'latin1'),
  ]);
  t.throws(() => decodePickle(bytes, 'order.pkl'), { code: 'PIPE_ERR_MODEL', message: /forbidden global os\.system/ });
});

test('the INST opcode is held to the same allow-list (os.system)', (t) => {
  // PROTO 2, MARK, 'echo' as a str, INST os system, STOP
  const bytes = Buffer.concat([
    Buffer.from([0x80, 0x02, 0x28, 0x58, 4, 0, 0, 0]),
    Buffer.from('echoios\nsystem\n.', 'latin1'),
  ]);
  t.throws(() => decodePickle(bytes, 'inst.pkl'), {
    code: 'PIPE_ERR_MODEL',
    message: /^inst\.pkl: .*forbidden global os\.system/,
  });
});

test('numpy globals outside the allow-list are refused too (numpy.load)', (t) => {
  const bytes = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cnumpy\nload\n)R.', 'latin1')]);
  t.throws(() => decodePickle(bytes, 'np-load.pkl'), {
    code: 'PIPE_ERR_MODEL',
    message: /forbidden global numpy\.load/,
  });
});

test('a pickle whose top level is not a dict is refused', async (t) => {
  const path = modelFixture('not-a-dict-p3.pkl');
  await assertModelError(t, () => readModelFile(path), path, /top level is a list or tuple, expected a dict/);
});

test('a dict value that is not a numpy array is refused, naming the tensor', (t) => {
  // {'W1': [1.0]}: PROTO 2, EMPTY_DICT, BINUNICODE 'W1', EMPTY_LIST, BINFLOAT 1.0, APPEND, SETITEM, STOP
  const bytes = Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d, 0x58, 2, 0, 0, 0]),
    Buffer.from('W1', 'latin1'),
    Buffer.from([0x5d, 0x47, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x61, 0x73, 0x2e]),
  ]);
  t.throws(() => decodePickle(bytes, 'list.pkl'), {
    code: 'PIPE_ERR_MODEL',
    message: /^list\.pkl: .*tensor W1: is a list or tuple, expected a numpy array/,
  });
});

test('an integer array is refused, naming the tensor and the dtype', (t) => {
  const original = readFileSync(modelFixture('tiny-p4.pkl'));
  const at = original.indexOf(Buffer.from([0x8c, 0x02, 0x66, 0x34])); // SHORT_BINUNICODE 'f4'
  t.true(at > 0);
  const patched = Buffer.from(original);
  patched[at + 2] = 0x69; // 'i4'
  t.throws(() => decodePickle(patched, 'int.pkl'), { code: 'PIPE_ERR_MODEL', message: /tensor W1: has dtype 'i4'/ });
});

test('a truncated pickle gives a clear error, not a RangeError', async (t) => {
  const dir = await tempDir(t);
  const original = readFileSync(modelFixture('tiny-p4.pkl'));
  for (const length of [2, 20, Math.floor(original.length / 2), original.length - 1]) {
    const path = join(dir, `cut-${length}.pkl`);
    await writeFile(path, original.subarray(0, length));
    await assertModelError(t, () => readModelFile(path), path, /pickle: truncated/);
  }
});

test('a negative BINBYTES length cannot send the reader backwards (it would loop forever)', (t) => {
  // PROTO 2, POP, BINBYTES -6 (after its length field the position is 8; 8 - 6 jumps back to the POP), STOP.
  // pickleparser's own BufferReader spins on this forever.
  const bytes = Buffer.from([0x80, 0x02, 0x30, 0x42, 0xfa, 0xff, 0xff, 0xff, 0x2e]);
  t.throws(() => decodePickle(bytes, 'loop.pkl'), { code: 'PIPE_ERR_MODEL', message: /invalid length -6 at byte 8/ });
});

test('protocol 0/1 pickles are refused', (t) => {
  t.throws(() => decodePickle(Buffer.from('(dp0\n.', 'latin1'), 'old.pkl'), {
    code: 'PIPE_ERR_MODEL',
    message: /not a protocol 2-5 pickle/,
  });
});
