/**
 * `usagelab init`: lays out a workspace (DESIGN.md §1) from templates/workspace. It never overwrites a file the
 * user has, so running it twice — or in an existing repo — is harmless; it says what it created and skipped.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InitResult {
  readonly root: string;
  readonly created: readonly string[];
  readonly kept: readonly string[];
}

/** Template files whose names cannot be shipped as-is in an npm package (npm drops .gitignore files). */
const RENAMES: Record<string, string> = { gitignore: '.gitignore' };

export function templatesDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../templates/workspace');
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out.sort();
}

export function initWorkspace(dir: string): InitResult {
  const root = resolve(dir);
  const source = templatesDir();
  const created: string[] = [];
  const kept: string[] = [];
  for (const file of walk(source)) {
    const rel = relative(source, file);
    const parts = rel.split(/[\\/]/);
    const last = parts.pop()!;
    const targetRel = join(...parts, RENAMES[last] ?? last);
    const target = join(root, targetRel);
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target)) {
      kept.push(targetRel);
      continue;
    }
    copyFileSync(file, target);
    created.push(targetRel);
  }
  mkdirSync(join(root, '.usagelab'), { recursive: true });
  return { root, created, kept };
}
