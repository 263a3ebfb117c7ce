// Option parsers every CLI command module shares (commander). A bad value is refused where it is typed, and
// commander's message names the option and the text: "option '--threads <n>' argument 'abc' is invalid. expected a
// positive integer".
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';

import { readRawMotion272 } from './data/motion-files.js';

// A repeatable option (`--text a --text b`): each occurrence appended to the list.
export const collect = (value: string, previous: string[]) => [...previous, value];

function parsed(v: string, ok: (n: number) => boolean, expected: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!ok(n)) throw new InvalidArgumentError(`expected ${expected}`);
  return n;
}

// A comma-separated list of FSQ levels (integers ≥ 2), e.g. 8,5,5,5.
export const levelList = (v: string) => {
  const levels = v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (levels.length === 0 || !levels.every((n) => Number.isInteger(n) && n >= 2))
    throw new InvalidArgumentError('expected integers ≥ 2 separated by commas, e.g. 8,5,5,5');
  return levels;
};

export const positiveInt = (v: string) => parsed(v, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
export const nonNegativeInt = (v: string) => parsed(v, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
export const positiveNumber = (v: string) => parsed(v, (n) => Number.isFinite(n) && n > 0, 'a positive number');
export const nonNegativeNumber = (v: string) => parsed(v, (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');
export const finiteNumber = (v: string) => parsed(v, Number.isFinite, 'a finite number');
export const probability = (v: string) => parsed(v, (n) => n > 0 && n <= 1, 'a number in (0, 1]');
export const port = (v: string) =>
  parsed(v, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port from 0 to 65535');

// Defaults live in the zod schemas only: a flag declares none (commander would pass its own, overriding the schema),
// its help shows the schema's, and an action hands the schema only the flags that were given (definedOnly). A key
// may be a dotted path into nested objects ('contacts.speed').
export function schemaDefault(schema: z.ZodObject, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], schema.parse({}));
}

// The description with the schema's default, or as it is where the schema has none (an optional field).
export function withDefault(description: string, schema: z.ZodObject, key: string): string {
  const value = schemaDefault(schema, key);
  return value === undefined ? description : `${description} (default: ${String(value)})`;
}

// The field at `key` with its default, prefault and optional wrappers taken off.
function bareField(schema: z.ZodObject, key: string): z.ZodType {
  const bare = (s: z.ZodType): z.ZodType => {
    const inner = (s as unknown as { def: { innerType?: z.ZodType } }).def.innerType;
    return inner ? bare(inner) : s;
  };
  return bare(key.split('.').reduce<z.ZodType>((s, k) => (bare(s) as z.ZodObject).shape[k] as z.ZodType, schema));
}

// An enum flag: its choices are the schema's enum, its default the schema's (where it has one); or, given an enum
// alone, its choices with no default.
export function choiceOption(
  flags: string,
  description: string,
  schema: z.ZodObject | z.ZodEnum,
  key?: string
): Option {
  if (key === undefined) return new Option(flags, description).choices((schema as z.ZodEnum).options as string[]);
  const field = bareField(schema as z.ZodObject, key) as z.ZodEnum;
  return new Option(flags, withDefault(description, schema as z.ZodObject, key)).choices(field.options as string[]);
}

// The options that were given: commander leaves the others undefined, and a schema must fill them, not see them.
export function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// What every command repeats, declared once.

// `-s, --set key=value`, repeatable: config overrides (ts/config.ts).
export const setOption = () =>
  new Option('-s, --set <key=value>', 'override a config value (repeatable)').argParser(collect).default([]);

// `--ckpt`: a run folder or one of its checkpoints; `imported` names what a .pth/.safetensors file holds where the
// command imports one on the fly (ts/pytorch/on-the-fly.ts).
export function ckptOption(model: string, imported?: string): Option {
  return new Option(
    `--ckpt <${imported ? 'dir|file' : 'dir'}>`,
    `${model} checkpoint or run folder` + (imported ? `, or a .pth/.safetensors ${imported} (imported on the fly)` : '')
  ).makeOptionMandatory();
}

// `--mean`/`--std`: a 272 motion's normalisation, both or neither (optionalMeanStd in ts/data/motion-files.ts).
export const meanStdOptions = (purpose = 'to de-normalise with') => [
  new Option('--mean <file>', `mean.npy ${purpose} (needs --std)`),
  new Option('--std <file>', `std.npy ${purpose} (needs --mean)`),
];

// A group of options added in order (commander adds one at a time).
export function addOptions(command: Command, options: Option[]): Command {
  for (const option of options) command.addOption(option);
  return command;
}

// `<parent> <name> <in> -o <file> [--mean --std]`: one 272 motion (.npy), de-normalised when given its statistics,
// handed to `write`, which writes `out` and returns the line to print.
export function addMotion272Command(
  parent: Command,
  name: string,
  description: string,
  outHelp: string,
  write: (motion: Float64Array, out: string) => string
): void {
  addOptions(
    parent.command(`${name} <in>`).description(description).requiredOption('-o, --out <file>', outHelp),
    meanStdOptions()
  ).action((input: string, o: { out: string; mean?: string; std?: string }) => {
    console.log(write(readRawMotion272(input, o), o.out));
  });
}
