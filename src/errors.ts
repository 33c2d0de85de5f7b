// One small error hierarchy with stable codes (callers match on `code`, never on message text), and the
// two tables that document them: every exit code, and every error code with the exit code it gives.
// The README's "Exit codes" and "Error codes" sections are generated from these tables (test/errors/).

/** Every exit code of every command. 69 and 75 are sysexits.h's EX_UNAVAILABLE and EX_TEMPFAIL. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  belowMinAccuracy: 3,
  redisUnavailable: 69,
  lockHeld: 75,
  sigint: 130,
  stdoutClosed: 141,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_MEANINGS: Record<ExitCode, string> = {
  0: 'complete',
  1: 'failed (bad input, model, worker, output)',
  2: 'usage error (bad option, or an output refused)',
  3: 'accuracy below --min-accuracy, or no labels to measure it',
  69: 'submit, result, worker: Redis unreachable, or lost while waiting',
  75: 'not started: another run holds the lock on an output file',
  130: 'interrupted by SIGINT',
  141: 'stdout (or a pipe output) closed early by its reader, e.g. head',
  143: 'interrupted by SIGTERM',
};

interface ErrorCodeEntry {
  /** The exit code a command ends with when this error ends it. */
  exit: ExitCode;
  meaning: string;
}

/** Every error code, as it appears in errors thrown, in the report's `error.code` and in logs. */
export const ERROR_CODES = {
  PIPE_ERR_USAGE: { exit: 2, meaning: 'bad command line: unknown option, bad value, bad combination' },
  PIPE_ERR_INPUT: { exit: 1, meaning: 'the input file does not exist or is not a regular file' },
  PIPE_ERR_DATA: { exit: 1, meaning: 'a bad row or input file (FILE:LINE: problem)' },
  PIPE_ERR_MODEL: { exit: 1, meaning: 'a model file that is unreadable, malformed, unsafe or inconsistent' },
  PIPE_ERR_MODEL_MISSING: { exit: 1, meaning: 'the model file does not exist' },
  PIPE_ERR_KERNEL: { exit: 1, meaning: 'the --kernel asked for is not available here' },
  PIPE_ERR_WORKER: { exit: 1, meaning: 'a batch failed twice in a worker (threw, died, timed out)' },
  PIPE_ERR_TASK_SHAPE: { exit: 1, meaning: 'a task reached a worker with buffers of the wrong size (a bug)' },
  PIPE_ERR_OUTPUT: { exit: 1, meaning: 'an output could not be written; the old file is intact' },
  PIPE_ERR_OUTPUT_CLOSED: { exit: 141, meaning: 'a pipe output (--predictions -) closed by its reader; run stopped' },
  PIPE_ERR_OUTPUT_PATH: { exit: 2, meaning: 'an output refused: the input, the model, a folder, a missing folder' },
  PIPE_ERR_LOCK: { exit: 1, meaning: 'the lock on an output could not be taken (file system error)' },
  PIPE_ERR_LOCKED: { exit: 75, meaning: 'another run holds the lock on an output; not started' },
  PIPE_ERR_HISTORY: { exit: 1, meaning: 'the --history file cannot be read or appended to' },
  PIPE_ERR_NOT_HISTORY: { exit: 2, meaning: 'the file given as a history is not one; left as it was' },
  PIPE_ERR_MIN_ACCURACY: { exit: 3, meaning: 'accuracy below --min-accuracy, or no labels' },
  PIPE_ERR_INTERRUPTED: { exit: 130, meaning: 'stopped by SIGINT (130) or SIGTERM (143)' },
  PIPE_ERR_STOP_TIMEOUT: { exit: 130, meaning: 'after a signal, batches outlived --stop-timeout (130/143)' },
  PIPE_ERR_FORCED_STOP: { exit: 130, meaning: 'a second signal: exit at once, no report (130/143)' },
  PIPE_ERR_UNEXPECTED: { exit: 1, meaning: 'an error nnpipe did not expect (a bug: please report it)' },
  PIPE_ERR_MNIST: { exit: 1, meaning: 'the MNIST source files are missing or damaged' },
  PIPE_ERR_TRAIN_STEP: { exit: 1, meaning: "training: a gradient task saw another step's weights (a bug)" },
  PIPE_ERR_TRAIN_DIVERGED: { exit: 1, meaning: 'training diverged (non-finite weights); nothing saved' },
  PIPE_ERR_MEASURE: { exit: 1, meaning: 'experiment: a measuring process failed' },
  PIPE_ERR_ACCURACY_MISMATCH: { exit: 1, meaning: 'experiment: two configurations scored differently' },
  PIPE_ERR_SHARD: { exit: 1, meaning: 'scale-out: a shard job failed' },
  PIPE_ERR_CHANGED: { exit: 1, meaning: 'scale-out: the input changed after it was submitted' },
  PIPE_ERR_REDIS: { exit: 69, meaning: 'scale-out: Redis unreachable, or lost past --redis-timeout' },
  PIPE_ERR_NO_RUN: { exit: 1, meaning: 'result: no run with that id in this Redis' },
  PIPE_ERR_MERGE: { exit: 2, meaning: 'merge: shards that do not form one run, or lack page data for --html' },
  PIPE_ERR_MERGE_PREDICTIONS: { exit: 1, meaning: "merge: a shard's predictions do not match its report" },
} as const satisfies Record<string, ErrorCodeEntry>;
export type ErrorCode = keyof typeof ERROR_CODES;

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
  }
}

/** A bad command line: unknown option, bad value, impossible combination. Exit 2. */
export class UsageError extends PipelineError {
  constructor(message: string) {
    super('PIPE_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

/** A bad input row or file. `file` and `line` locate it; the message reads `FILE:LINE: problem`. */
export class DataError extends PipelineError {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
  constructor(file: string, line: number, problem: string, code: ErrorCode = 'PIPE_ERR_DATA') {
    super(code, line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/**
 * A model file that cannot be used: unreadable, malformed, hostile, inconsistent. The message names the file (and
 * tensor).
 */
export class ModelError extends PipelineError {
  readonly file: string;
  constructor(file: string, problem: string, code: ErrorCode = 'PIPE_ERR_MODEL') {
    super(code, `${file}: ${problem}`);
    this.name = 'ModelError';
    this.file = file;
  }
}

/** A worker task that failed (threw, died, timed out) after its retry. */
export class WorkerTaskError extends PipelineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('PIPE_ERR_WORKER', message, options);
    this.name = 'WorkerTaskError';
  }
}

/** The table entry of a code read back from a report or a worker's message (unknown codes: PIPE_ERR_UNEXPECTED). */
export function errorCodeOf(code: string): ErrorCode {
  return Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : 'PIPE_ERR_UNEXPECTED';
}
