/**
 * A workspace is a folder holding usagelab.yaml, found like git finds a repository: walk up from the current
 * directory, unless --workspace or USAGELAB_WORKSPACE names it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageLabError } from './errors.js';

export interface WorkspacePaths {
  root: string;
  config: string;
  state: string;
  exports: string;
  queries: string;
  reports: string;
  insights: string;
  analysis: string;
  api: string;
}

export function workspacePaths(root: string): WorkspacePaths {
  const r = resolve(root);
  return {
    root: r,
    config: join(r, 'usagelab.yaml'),
    state: join(r, '.usagelab'),
    exports: join(r, 'exports'),
    queries: join(r, 'queries'),
    reports: join(r, 'reports'),
    insights: join(r, 'data-insights'),
    analysis: join(r, 'analysis'),
    api: join(r, 'api'),
  };
}

export function findWorkspace(explicit: string | undefined, cwd = process.cwd(), env = process.env): string {
  const named = explicit ?? env.USAGELAB_WORKSPACE;
  if (named !== undefined && named !== '') {
    const dir = resolve(cwd, named);
    if (!existsSync(join(dir, 'usagelab.yaml'))) {
      throw new UsageLabError('workspace_not_found', `${dir} has no usagelab.yaml`, {
        hint: `run \`usagelab init ${named}\` first`,
      });
    }
    return dir;
  }
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'usagelab.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new UsageLabError('workspace_not_found', `no usagelab.yaml in ${resolve(cwd)} or any parent folder`, {
    hint: 'run `usagelab init` here, `cd` into a workspace, or pass --workspace DIR',
  });
}
