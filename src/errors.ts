// One small error hierarchy with stable codes (callers match on `code`, never on message text).
// Each error knows the exit code the CLI should use for it.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  belowMinAccuracy: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class PipelineError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** A bad command line: unknown option, bad value, impossible combination. Exit 2. */
export class UsageError extends PipelineError {
  constructor(message: string) {
    super('PIPE_ERR_USAGE', message, { exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** A bad input row or file. `file` and `line` locate it; the message reads `FILE:LINE: problem`. */
export class DataError extends PipelineError {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
  constructor(file: string, line: number, problem: string, code = 'PIPE_ERR_DATA') {
    super(code, line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** A model file that cannot be used: unreadable, malformed, hostile, inconsistent. The message names the file (and tensor). */
export class ModelError extends PipelineError {
  readonly file: string;
  constructor(file: string, problem: string, code = 'PIPE_ERR_MODEL') {
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
