/** Any error as the dashboard's `problem` event: a PricelabError keeps its problems; a zod error lists its issues by path. */
import type { z } from 'zod';
import { PricelabError } from '../../core/errors.js';
import type { ProblemEvent } from '../shared/events.js';

export function problemOf(event: string, error: unknown): ProblemEvent {
  if (error instanceof PricelabError) return { event, message: error.message, problems: error.problems.map((problem) => ({ path: [...problem.path], message: problem.message })) };
  return { event, message: error instanceof Error ? error.message : String(error), problems: [] };
}

export function problemOfIssues(event: string, issues: readonly z.core.$ZodIssue[]): ProblemEvent {
  return {
    event,
    message: `the "${event}" message is not valid`,
    problems: issues.map((issue) => ({ path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)), message: issue.message })),
  };
}
