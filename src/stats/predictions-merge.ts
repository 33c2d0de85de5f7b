// The predictions files of a run's shards, one after another into one file in input order, each shard's
// numbers made absolute: `line` moved by the lines before the shard, `row` by the rows of the shards
// before it. Every part must have the same layout (format and columns). Streamed: memory stays flat
// whatever the file sizes.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { PipelineError } from '../errors.js';
import { headerOf, lineAndRow, renumbered, type PredictionsLayout } from './predictions-format.js';
import { PredictionsWriter } from './predictions-writer.js';

/** One shard's predictions file: its path, the lines before the shard, and the rows its report counts. */
export interface PredictionsPart {
  path: string;
  lineOffset: number;
  rows: number;
  /** The shard, for messages ("shard 3/12"). */
  name: string;
}

/** Lines written per call to the writer (a bounded chunk, so that 'drain' keeps memory flat). */
const LINES_PER_WRITE = 4096;

/**
 * Writes the merged file to `target` in the parts' `layout` (atomically, see PredictionsWriter); returns its data rows.
 */
export async function mergePredictionFiles(
  target: string,
  parts: PredictionsPart[],
  layout: PredictionsLayout,
): Promise<number> {
  const writer = await PredictionsWriter.open(target, layout);
  try {
    for (const part of parts) await copyPart(writer, part, writer.rowsWritten);
    await writer.commit();
  } catch (error) {
    await writer.discard();
    throw error;
  }
  return writer.rowsWritten;
}

async function copyPart(writer: PredictionsWriter, part: PredictionsPart, rowOffset: number): Promise<void> {
  const lines = createInterface({ input: createReadStream(part.path), crlfDelay: Infinity });
  const { format } = writer.layout;
  const header = headerOf(writer.layout);
  let seen = header === null ? 0 : -1;
  let chunk = '';
  let inChunk = 0;
  try {
    for await (const line of lines) {
      if (seen === -1) {
        if (line !== header) throw partError(part, `its first line is not the header ${header}`);
        seen = 0;
        continue;
      }
      const numbers = lineAndRow(format, line);
      // Row numbers in a shard's file count from 0 with no gaps: anything else is not its file as written.
      if (numbers === null || numbers.row !== seen)
        throw partError(
          part,
          `line ${seen + (header === null ? 1 : 2)} is not a predictions line: ${JSON.stringify(line.slice(0, 80))}`,
        );
      chunk += `${renumbered(format, numbers, line, part.lineOffset, rowOffset)}\n`;
      seen += 1;
      if (++inChunk === LINES_PER_WRITE) {
        await writer.writeLines(chunk, inChunk);
        chunk = '';
        inChunk = 0;
      }
    }
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    throw partError(part, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    lines.close();
  }
  if (seen !== part.rows)
    throw partError(part, `it holds ${Math.max(0, seen)} rows, the shard's report counts ${part.rows}`);
  await writer.writeLines(chunk, inChunk);
}

const partError = (part: PredictionsPart, problem: string) =>
  new PipelineError(
    'PIPE_ERR_MERGE_PREDICTIONS',
    `${part.name}: the predictions file ${part.path} cannot be merged: ${problem}`,
  );
