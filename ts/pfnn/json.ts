// The PFNN's JSON files (pfnn.json, clips.json) read and checked against a schema; what is wrong becomes one
// sentence naming the file, the field and its value, never a list of schema issues or a property error later on.
import type { z } from 'zod';

import { describe, printable, TorchmotionError } from '../errors.js';
import { readTextFile } from '../files.js';

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

// What an issue expected, in words; schemas give their own for patterns.
function expectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const names: Record<string, string> = { int: 'integer', tuple: 'array', record: 'object' };
      return article(names[issue.expected] ?? issue.expected);
    }
    case 'invalid_value':
      return issue.values.map((v) => JSON.stringify(v)).join(' or ');
    case 'too_small': {
      const bound = `${issue.inclusive ? '' : 'more than '}${issue.minimum}`;
      return issue.origin === 'array'
        ? `${issue.exact ? 'exactly' : 'at least'} ${bound} entries`
        : `at least ${bound}`;
    }
    case 'too_big': {
      const bound = `${issue.inclusive ? '' : 'less than '}${issue.maximum}`;
      return issue.origin === 'array' ? `at most ${bound} entries` : `at most ${bound}`;
    }
    default:
      return undefined;
  }
}

// `layers[0].shape[1]` for the path ['layers', 0, 'shape', 1].
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    ''
  );
}

export function readJson(file: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser quotes the text around the fault, which may hold control characters.
    throw new TorchmotionError(`${file} is not valid JSON (${printable((err as Error).message)})`);
  }
}

export function parseJson<S extends z.ZodType>(file: string, schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw, { error: expectation });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  let value: unknown = raw;
  for (const k of issue.path) {
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
  }
  const field = issue.path.length ? fieldName(issue.path) : 'the top level';
  const got = value === undefined ? 'missing' : describe(value);
  throw new TorchmotionError(`${file}: ${field} is ${got}; expected ${issue.message}`);
}
