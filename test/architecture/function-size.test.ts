// No function over 80 lines (docs/CONVENTIONS.md): a function that long does more than one thing. Read from
// the TypeScript sources with the compiler's own parser, so every kind of function counts (declarations,
// methods, arrows, constructors, accessors).
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../src/paths.js';

const MAX_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.c?ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const body = node.body as ts.Node;
      const first = source.getLineAndCharacterOfPosition(body.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(body.getEnd()).line;
      const name = node.name ? node.name.getText(source) : '(anonymous)';
      if (last - first + 1 > MAX_LINES)
        found.push(`${relative(projectRoot, file)}:${first + 1} ${name}: ${last - first + 1} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test(`no function in src/, pipelines/, workers/ or bench/ is over ${MAX_LINES} lines`, (t) => {
  const files = ['src', 'pipelines', 'workers', 'bench'].flatMap((dir) => sourceFiles(resolve(projectRoot, dir)));
  t.deepEqual(files.flatMap(longFunctions), []);
});
