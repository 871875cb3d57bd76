/**
 * Turns a YAML-loaded object into a typed definition: the kind's zod schema checks shapes and fills defaults,
 * then its rules (each with a stable code) check what needs the whole definition. The first problem becomes a
 * UsageLabError naming the code, the file and the dotted field.
 */
import type { z } from 'zod';
import { UsageLabError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { RuleViolation } from '../analysis-kind.js';

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function parseDefinition<S extends z.ZodType>(
  kind: string,
  schema: S,
  rules: (definition: z.output<S>) => RuleViolation[],
  input: unknown,
  file?: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = fieldPath(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path);
    const message = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]!}"` : issue.message;
    throw new UsageLabError(`${kind}_invalid`, message, {
      place: { ...(file === undefined ? {} : { file }), ...(field === '' ? {} : { field }) },
      hint: `see docs/analyses.md#${kind} for the fields a ${kind} definition takes`,
      exitCode: EXIT.usage,
    });
  }
  assertRules(rules(parsed.data), file);
  return parsed.data;
}

/** Throws the first violation as a UsageLabError (for definitions built in code, too). */
export function assertRules(violations: readonly RuleViolation[], file?: string): void {
  const violation = violations[0];
  if (violation === undefined) return;
  throw new UsageLabError(violation.code, violation.message, {
    place: { ...(file === undefined ? {} : { file }), field: violation.field },
    hint: violation.hint,
    exitCode: EXIT.usage,
  });
}
