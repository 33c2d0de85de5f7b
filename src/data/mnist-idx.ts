// Strict reader for the IDX format the MNIST files are published in (http://yann.lecun.com/exdb/mnist/):
// a big-endian header (magic, dimension sizes) followed by unsigned bytes. We read whole files into
// memory (47 MB at most) and check every size before anyone indexes into the data.
import { DataError } from '../errors.js';

/** Magic numbers: 0x00 0x00, type 0x08 (unsigned byte), number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, image after image, row-major. A view into the file's buffer. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** One byte per image. A view into the file's buffer. */
  labels: Uint8Array;
}

/** Error code of every problem with the MNIST source files (malformed IDX, wrong checksum). */
export const MNIST_ERROR_CODE = 'PIPE_ERR_MNIST';

/** A malformed IDX file is a bad input file: a DataError without a line (`FILE: problem`). */
const idxError = (file: string, problem: string) => new DataError(file, 0, problem, MNIST_ERROR_CODE);

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

function readMagic(bytes: Uint8Array, file: string, expected: number, what: string, headerBytes: number): DataView {
  if (bytes.byteLength < headerBytes) {
    throw idxError(
      file,
      `too short for an IDX ${what} file (${bytes.byteLength} bytes, the header alone is ${headerBytes})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expected) {
    throw idxError(file, `magic number ${hex(magic)} is not ${hex(expected)} (IDX ${what})`);
  }
  return view;
}

/** Parses an idx3-ubyte image file: magic 0x00000803, count, rows, cols, then count*rows*cols bytes. */
export function parseIdxImages(bytes: Uint8Array, file = '<images>'): IdxImages {
  const header = 16;
  const view = readMagic(bytes, file, IDX_IMAGES_MAGIC, 'images', header);
  const count = view.getUint32(4, false);
  const rows = view.getUint32(8, false);
  const cols = view.getUint32(12, false);
  if (rows === 0 || cols === 0) throw idxError(file, `image size ${rows}x${cols} is empty`);
  const expected = header + count * rows * cols;
  if (bytes.byteLength !== expected) {
    throw idxError(
      file,
      `size ${bytes.byteLength} bytes does not match its header (${count} images of ${rows}x${cols} need ${expected} ` +
        `bytes)`,
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(header) };
}

/** Parses an idx1-ubyte label file: magic 0x00000801, count, then count bytes, each 0..maxLabel. */
export function parseIdxLabels(bytes: Uint8Array, file = '<labels>', maxLabel = 9): IdxLabels {
  const header = 8;
  const view = readMagic(bytes, file, IDX_LABELS_MAGIC, 'labels', header);
  const count = view.getUint32(4, false);
  const expected = header + count;
  if (bytes.byteLength !== expected) {
    throw idxError(
      file,
      `size ${bytes.byteLength} bytes does not match its header (${count} labels need ${expected} bytes)`,
    );
  }
  const labels = bytes.subarray(header);
  for (let i = 0; i < count; i++) {
    if (labels[i] > maxLabel) throw idxError(file, `label ${i} is ${labels[i]}, not 0..${maxLabel}`);
  }
  return { count, labels };
}

/** Checks that an image file and a label file describe the same number of examples. */
export function checkIdxPair(images: IdxImages, labels: IdxLabels, imagesFile: string, labelsFile: string): void {
  if (images.count !== labels.count) {
    throw idxError(imagesFile, `holds ${images.count} images but ${labelsFile} holds ${labels.count} labels`);
  }
}
