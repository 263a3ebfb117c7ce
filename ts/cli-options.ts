// Option parsers every CLI command module shares (commander). A bad value is refused where it is typed, and
// commander's message names the option and the text: "option '--threads <n>' argument 'abc' is invalid. expected a
// positive integer".
import { InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';

// A repeatable option (`--text a --text b`): each occurrence appended to the list.
export const collect = (value: string, previous: string[]) => [...previous, value];

function parsed(v: string, ok: (n: number) => boolean, expected: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!ok(n)) throw new InvalidArgumentError(`expected ${expected}`);
  return n;
}

// A comma-separated list of FSQ levels (integers ≥ 2), e.g. 8,5,5,5.
export const levelList = (v: string) => {
  const levels = v.split(',').map((x) => x.trim() === '' ? NaN : Number(x));
  if (levels.length === 0 || !levels.every((n) => Number.isInteger(n) && n >= 2)) throw new InvalidArgumentError('expected integers ≥ 2 separated by commas, e.g. 8,5,5,5');
  return levels;
};

export const positiveInt = (v: string) => parsed(v, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
export const nonNegativeInt = (v: string) => parsed(v, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
export const positiveNumber = (v: string) => parsed(v, (n) => Number.isFinite(n) && n > 0, 'a positive number');
export const nonNegativeNumber = (v: string) => parsed(v, (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');
export const finiteNumber = (v: string) => parsed(v, Number.isFinite, 'a finite number');
export const probability = (v: string) => parsed(v, (n) => n > 0 && n <= 1, 'a number in (0, 1]');
export const port = (v: string) => parsed(v, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port from 0 to 65535');

// Defaults live in the zod schemas only: a flag declares none (commander would pass its own, overriding the schema),
// its help shows the schema's, and an action hands the schema only the flags that were given (definedOnly).
export function schemaDefault(schema: z.ZodObject, key: string): unknown {
  return (schema.parse({}) as Record<string, unknown>)[key];
}

export const withDefault = (description: string, schema: z.ZodObject, key: string) =>
  `${description} (default: ${String(schemaDefault(schema, key))})`;

// An enum flag: its choices are the schema's enum, its default the schema's.
export function choiceOption(flags: string, description: string, schema: z.ZodObject, key: string): Option {
  const field = schema.shape[key] as unknown as { unwrap(): { options: string[] } };
  return new Option(flags, withDefault(description, schema, key)).choices(field.unwrap().options);
}

// The options that were given: commander leaves the others undefined, and a schema must fill them, not see them.
export function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
