// The direction of imports, checked on the source: the core in src/ -> pipelines/ -> the CLIs in
// src/cli/ (and the worker entry files), each folder importing only from folders below it, and no
// import cycles between files. Read from the TypeScript sources themselves (static `from '...'` and
// dynamic `import('...')` with relative paths), so a new file cannot slip past.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../../src/paths.js';

/** Each folder's floor: a file may import from its own folder and from folders on lower floors. */
const FLOORS: Record<string, number> = {
  'src/errors.ts': 0,
  'src/paths.ts': 0,
  'src/zod-locale.ts': 0,
  'src/output': 1,
  'src/data': 2,
  'src/nn': 3,
  'src/pool': 4,
  'src/stats': 5,
  'src/train': 5,
  'src/html': 6,
  'src/jobs': 6,
  'src/queue': 6,
  'src/experiment': 7,
  pipelines: 8,
  'src/cli': 9,
  workers: 9,
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.c?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The folder (or top-level file) of FLOORS that holds `file` (a path relative to the project). */
function room(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'src') return parts[0];
  return parts.length === 2 ? file : `src/${parts[1]}`;
}

const files = ['src', 'pipelines', 'workers']
  .flatMap((dir) => sourceFiles(resolve(projectRoot, dir)))
  .map((f) => relative(projectRoot, f));
const known = new Set(files);

/** Relative imports of every file, as project paths of .ts files. */
const imports = new Map<string, string[]>();
for (const file of files) {
  const text = readFileSync(resolve(projectRoot, file), 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom|\bimport\(|^import)\s*'(\.{1,2}\/[^']+)'/gm)) {
    const target = relative(projectRoot, resolve(projectRoot, dirname(file), match[1]))
      .replace(/\.js$/, '.ts')
      .replace(/\.cjs$/, '.cts');
    if (known.has(target)) targets.push(target);
  }
  imports.set(file, targets);
}

test('every source file is in a folder with a floor', (t) => {
  const homeless = files.filter((f) => FLOORS[room(f)] === undefined);
  t.deepEqual(homeless, [], 'add the folder to FLOORS');
});

test('imports go down: src/ core -> pipelines/ -> src/cli/ and workers/', (t) => {
  const upward: string[] = [];
  for (const [file, targets] of imports) {
    for (const target of targets) {
      const from = room(file);
      const to = room(target);
      if (from !== to && !(FLOORS[to] < FLOORS[from]))
        upward.push(`${file} -> ${target} (${from} floor ${FLOORS[from]}, ${to} floor ${FLOORS[to]})`);
    }
  }
  t.deepEqual(upward, []);
  t.true(imports.size > 100, `read ${imports.size} files`);
});

test('no import cycles between files', (t) => {
  // Tarjan's strongly connected components: any component of more than one file is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of imports.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  t.deepEqual(cycles, []);
});
