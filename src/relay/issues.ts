// zod issues as one line a developer can act on: a bad request body's first problem, and every bad option.
import type * as z from 'zod/mini';
import { describeValue as describe } from '../core/errors';

/** `resourceSpans[0].scopeSpans[1].spans[3].traceId` from a zod issue path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

/** The first issue as one line a developer can act on: where, what is wrong, and (briefly) what was sent. */
export function firstIssue(issues: readonly z.core.$ZodIssue[], input: unknown, prefix = ''): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid';
  const where = formatPath([...(prefix ? [prefix] : []), ...issue.path]) || 'body';
  let value: any = input;
  for (const key of issue.path) value = value == null ? undefined : value[key as any];
  const shown = value === undefined ? 'nothing' : short(value);
  return `${where}: ${issue.message} (got ${shown})`;
}

function short(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return typeof value;
    return json.length > 60 ? json.slice(0, 57) + '...' : json;
  } catch {
    return typeof value;
  }
}

/** One line per zod issue: `rateLimit.burst must be an integer ≥ 1, got 0`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, label: string): string {
  const lines = issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const name = issue.path.map(String).join('.') || 'options';
    let value: any = input;
    for (const key of issue.path) value = value == null ? undefined : value[key as any];
    if (value === undefined && issue.code === 'invalid_type') return `${name} is required`;
    return `${name} ${issue.message}, got ${describe(value)}`;
  });
  return `${label}: invalid options: ${lines.join('; ')}`;
}
