// The `npm run train` command line: bad options are usage errors (exit 2) before any work starts, and
// a tiny real run saves a model whose metadata records how to reproduce it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTrainCli, type CliIo } from '../../src/cli/train.js';
import { loadModel } from '../../src/nn/load-model.js';
import { MNIST_SOURCES, mnistSourceDir } from '../../src/data/mnist.js';

const trainCliFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/train.js');

function fakeIo(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = { write: (s: string) => ((out += s), true), isTTY: false } as unknown as CliIo['stdout'];
  const stderr = { write: (s: string) => ((err += s), true), isTTY: false } as unknown as CliIo['stderr'];
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

const badOptions: Array<[string[], RegExp]> = [
  [['--epochs', '0'], /--epochs must be a positive integer/],
  [['--batch-size', '1e2'], /--batch-size must be a positive integer/],
  [['--hidden', '50,,100'], /--hidden/],
  [['--activation', 'tanh'], /tanh/],
  [['--optimizer', 'rmsprop'], /rmsprop/],
  [['--lr', 'fast'], /--lr must be a positive number/],
  [['--lr', '0'], /--lr must be a positive number/],
  [['--momentum', '0.5'], /--momentum only applies to --optimizer momentum/],
  [['--optimizer', 'momentum', '--momentum', '1'], /--momentum must be a number in \[0, 1\)/],
  [['--seed', '-1'], /--seed/],
  [['--threads', '0'], /--threads must be a positive integer/],
  [['--augment-shift', '8'], /--augment-shift must be at most 7/],
  [['--out', 'model.txt'], /must end in .safetensors or .npz/],
  [['--limit-train', 'all'], /--limit-train must be a positive integer/],
  [['--no-such-option'], /unknown option/],
  [['extra-argument'], /too many arguments|excess/i],
  // Extreme values (issue 12): bounded by what the machine can do, exit 2 before anything starts.
  [
    ['--optimizer', 'momentum', '--momentum', '0.99999999999999999'],
    /--momentum must be a number in \[0, 1\) \(this one rounds to 1\)/,
  ],
  [
    ['--batch-size', '99999999999'],
    /--batch-size 99999999999 in shards of --shard-rows 50 is 2000000000 gradient shards per step; at most 65535/,
  ],
  [
    ['--hidden', '100000,100000'],
    /--hidden 100000,100000 with 2 gradient shards per step .* needs about 337\.9 GiB \(10079600010 parameters\); half of this machine's memory is/,
  ],
];

for (const [argv, message] of badOptions) {
  test(`exit 2 on a bad option: ${argv.join(' ')}`, async (t) => {
    const { io, err } = fakeIo();
    t.is(await runTrainCli(argv, io), 2);
    t.regex(err(), message);
  });
}

test('the compiled command exits 2 on a bad option, in a real process', (t) => {
  const result = spawnSync(process.execPath, [trainCliFile, '--batch-size', 'many'], { encoding: 'utf8' });
  t.is(result.status, 2);
  t.regex(result.stderr, /--batch-size must be a positive integer \(got 'many'\)/);
});

test(
  '--out is checked before any training: a folder, a missing folder, a device through a link, the training data ' +
    '(exit 2)',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'nnpipe-train-out-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'folder.safetensors'));
    await symlink('/dev/null', join(dir, 'null.safetensors'));
    await symlink(resolve(mnistSourceDir(), MNIST_SOURCES.train.images), join(dir, 'data.safetensors'));
    for (const [name, message] of [
      ['folder.safetensors', /--out .*folder\.safetensors: is a directory/],
      [join('missing', 'm.safetensors'), /--out .*m\.safetensors: the folder .*missing does not exist/],
      [
        'null.safetensors',
        /--out .*null\.safetensors is a device, a FIFO or an open descriptor; a model file must be a regular file/,
      ],
      [
        'data.safetensors',
        /--out .*data\.safetensors is the same file as the MNIST train data .*; refusing to overwrite training data/,
      ],
    ] as const) {
      const { io, err } = fakeIo();
      t.is(await runTrainCli(['--epochs', '1', '--limit-train', '100', '--out', join(dir, name)], io), 2, err());
      t.regex(err(), message);
      t.regex(err(), /^nnpipe train: /);
    }
  },
);

test('a diverging run (--lr 1e308) is exit 1 and saves nothing: --out keeps what it held', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-train-diverge-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'm.safetensors');
  const { io, err } = fakeIo();
  t.is(
    await runTrainCli(
      [
        '--hidden',
        '16',
        '--epochs',
        '1',
        '--limit-train',
        '200',
        '--limit-test',
        '100',
        '--threads',
        '1',
        '--lr',
        '1e308',
        '--out',
        out,
        '--quiet',
      ],
      io,
    ),
    1,
    err(),
  );
  t.regex(
    err(),
    /^nnpipe train: training diverged: layer \d has non-finite weights \(try a lower --lr\); nothing was saved/,
  );
  const { existsSync } = await import('node:fs');
  t.false(existsSync(out));
});

test('--help exits 0 and lists the options', async (t) => {
  const { io, out } = fakeIo();
  t.is(await runTrainCli(['--help'], io), 0);
  for (const flag of [
    '--hidden',
    '--activation',
    '--epochs',
    '--batch-size',
    '--lr',
    '--optimizer',
    '--momentum',
    '--seed',
    '--threads',
    '--out',
    '--force',
    '--limit-train',
    '--json',
    '--quiet',
  ]) {
    t.true(out().includes(flag), flag);
  }
});

test('a tiny run saves a model with reproducible metadata and prints a JSON summary', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nnpipe-train-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'tiny.safetensors');
  const { io, out: stdout } = fakeIo();
  const argv = [
    '--hidden',
    '16',
    '--epochs',
    '1',
    '--limit-train',
    '600',
    '--limit-test',
    '200',
    '--threads',
    '1',
    '--seed',
    '3',
    '--out',
    out,
    '--json',
    '--quiet',
  ];
  t.is(await runTrainCli(argv, io), 0);
  const summary = JSON.parse(stdout());
  t.is(summary.model, out);
  t.deepEqual(summary.layerSizes, [784, 16, 10]);
  t.is(summary.trainImages, 600);

  const model = await loadModel(out);
  t.deepEqual(model.layerSizes, [784, 16, 10]);
  t.is(model.network.activation, 'sigmoid');
  t.is(model.network.output, 'softmax');
  t.is(model.normalize, 'unit');
  const m = model.metadata;
  t.is(m.seed, '3');
  t.is(m.epochs, '1');
  t.is(m.batch_size, '100');
  t.is(m.train_images, '600');
  t.is(Number(m.test_accuracy), summary.testAccuracy);
  t.is(JSON.parse(m.optimizer).name, 'adam');
  t.regex(m.created_at, /^\d{4}-\d\d-\d\dT/);
  t.regex(m.tool, /^nnpipe /);
  t.regex(JSON.parse(m.training_data_sha256)['train-images-idx3-ubyte'], /^[0-9a-f]{64}$/);
  t.true(
    m.command.startsWith(
      'npm run train -- --hidden 16 --activation sigmoid --epochs 1 --batch-size 100 --optimizer adam',
    ),
    m.command,
  );
  t.true(
    m.command.includes('--seed 3') && m.command.includes('--limit-train 600') && m.command.includes(`--out ${out}`),
    m.command,
  );

  // Naming the file with --out again replaces it; the default path is the one that needs --force.
  const again = fakeIo();
  t.is(await runTrainCli(argv, again.io), 0);
  const reloaded = await loadModel(out);
  t.deepEqual(reloaded.network.layers[0].W.data, model.network.layers[0].W.data, 'same command, same weights');
});
