// Writes the experiment's three files into its folder, each atomically (readers, and a run stopped
// half-way, see the previous complete file or the new one, never a torn file).
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../output/write-file.js';
import { experimentCsv } from './csv.js';
import type { ExperimentDocument } from './document.js';
import { buildExperimentPage } from './html.js';

export const OUTPUT_FILES = { json: 'experiment.json', csv: 'experiment.csv', html: 'experiment.html' } as const;

export interface WrittenOutputs {
  json: string;
  csv: string;
  html: string;
}

export function outputPaths(dir: string): WrittenOutputs {
  return { json: join(dir, OUTPUT_FILES.json), csv: join(dir, OUTPUT_FILES.csv), html: join(dir, OUTPUT_FILES.html) };
}

export async function writeExperimentOutputs(dir: string, doc: ExperimentDocument): Promise<WrittenOutputs> {
  const paths = outputPaths(dir);
  // Rendered before anything is written: a rendering bug leaves the previous files alone.
  const csv = experimentCsv(doc);
  const html = buildExperimentPage(doc);
  await writeJsonAtomic(paths.json, doc);
  await writeFileAtomic(paths.csv, csv);
  await writeFileAtomic(paths.html, html);
  return paths;
}
