// Reads a run page back: its JSON data block, with the binary figures and image records decoded by the
// same module that encoded them (the page's own decoder is exercised by the browser tests).
import type { RunPageData } from '../../src/html/run-page.js';
import { decodeFigures, decodeImageRecords } from '../../src/html/run-data.js';
import type { KeptImage } from '../../src/html/mistakes.js';

export interface PageBlock {
  charts: Record<string, unknown>;
  data: unknown;
}

/** The parsed JSON block of a page (throws if it is not there exactly once). */
export function dataBlock(html: string): PageBlock {
  const open = '<script type="application/json" id="page-data">';
  const start = html.indexOf(open);
  if (start < 0 || html.indexOf(open, start + 1) >= 0) throw new Error('expected one data block');
  const from = start + open.length;
  return JSON.parse(html.slice(from, html.indexOf('</script', from)));
}

export interface DecodedRunPage {
  status: string;
  run: RunPageData;
  figures: Record<string, number[]>;
  images: KeptImage[];
}

export function runPage(html: string): DecodedRunPage {
  const data = dataBlock(html).data as { kind: string; status: string; run: RunPageData };
  if (data.kind !== 'nnpipe-run') throw new Error(`not a run page: ${data.kind}`);
  return {
    status: data.status,
    run: data.run,
    figures: decodeFigures(data.run.layout, data.run.figures),
    images: decodeImageRecords(data.run.images, data.run.features),
  };
}

/**
 * What a merged page must share with one run's page: the images and every count (not the timings, nor the batches: each
 * shard cuts its own).
 */
export function pageContent(html: string) {
  const page = runPage(html);
  const f = page.figures;
  const { kind, classes, features, budget, recordBytes } = page.run;
  return {
    status: page.status,
    run: { kind, classes, features, budget, recordBytes },
    images: page.images.map((i) => ({ ...i, pixels: Buffer.from(i.pixels).toString('base64') })),
    figures: {
      rows: f.rows,
      labeled: f.labeled,
      correct: f.correct,
      skipped: f.skipped,
      errorLines: f.errorLines,
      confusion: f.confusion,
      precision: f.precision,
      recall: f.recall,
    },
  };
}
