// Runs a compiled CLI entry point as a child process, the way users and job runners do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The compiled `src/cli/<name>.js` next to this compiled helper (dist/ or any build folder). */
export const cliEntry = (name: string): string => fileURLToPath(new URL(`../../src/cli/${name}.js`, import.meta.url));

/**
 * The pipeline CLI as users run it: the bundle that bin/nnpipe.js starts (dist/bundle/nnpipe.mjs),
 * or the unbundled entry in a build folder without a bundle.
 */
export const pipelineEntry = (): string => {
  const bundle = fileURLToPath(new URL('../../bundle/nnpipe.mjs', import.meta.url));
  return existsSync(bundle) ? bundle : cliEntry('pipeline');
};

export function runNode(
  script: string,
  args: string[],
  options: {
    stdin?: string | Buffer | ((stdin: NodeJS.WritableStream) => void);
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading all of stdin
    if (typeof options.stdin === 'function') options.stdin(child.stdin);
    else child.stdin.end(options.stdin ?? '');
  });
}

export const runPipeline = (args: string[], options: Parameters<typeof runNode>[2] = {}) =>
  runNode(pipelineEntry(), args, options);
