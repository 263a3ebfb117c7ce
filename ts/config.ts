// Configs are YAML or JSON files plus `key.path=value` overrides, checked by a zod schema. Unknown keys are
// errors that list the valid ones: a typo must never silently fall back to a default.
import { extname } from 'node:path';

import YAML from 'yaml';
import { z } from 'zod';

import { TorchmotionError } from './errors.js';
import { readTextFile } from './files.js';

export interface ConfigSource {
  file?: string; // YAML (.yaml/.yml) or JSON (.json)
  overrides?: string[]; // e.g. ["train.steps=200", "train.device=cpu"]
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

// Looks through default/optional/nullable wrappers to the object schema at `path`, if there is one.
function objectAt(schema: z.ZodType, path: readonly PropertyKey[]): AnyObject | undefined {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s;) {
    const def: { type: string; innerType?: z.ZodType } = (
      s as unknown as { def: { type: string; innerType?: z.ZodType } }
    ).def;
    if (def.innerType) {
      s = def.innerType;
      continue;
    }
    if (def.type !== 'object') return undefined;
    if (i === path.length) return s as AnyObject;
    s = (s as AnyObject).shape[String(path[i++])] as z.ZodType | undefined;
  }
  return undefined;
}

function validKeys(schema: z.ZodType, path: readonly PropertyKey[]): string {
  const obj = objectAt(schema, path);
  return obj ? Object.keys(obj.shape).join(', ') : '(none)';
}

function where(path: readonly PropertyKey[]): string {
  return path.length ? path.join('.') : 'the top level';
}

function readFile(file: string): unknown {
  const text = readTextFile(
    file,
    (err) => new TorchmotionError(`cannot read config ${file}: ${(err as Error).message}`)
  );
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new TorchmotionError(
      `config ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`
    );
  }
}

// Applies one `a.b.c=value` override; the value is read as a YAML scalar, so numbers and booleans keep their type.
export function applyOverride(target: Record<string, unknown>, override: string, schema: z.ZodType): void {
  const eq = override.indexOf('=');
  if (eq <= 0) throw new TorchmotionError(`override '${override}' must look like key=value (e.g. train.steps=200)`);
  const keys = override.slice(0, eq).split('.');
  let node = target;
  for (const [i, key] of keys.entries()) {
    const obj = objectAt(schema, keys.slice(0, i));
    if (!obj || !(key in obj.shape)) {
      throw new TorchmotionError(
        `unknown config key '${keys.slice(0, i + 1).join('.')}' in override '${override}': ` +
          `valid keys at ${where(keys.slice(0, i))} are ${validKeys(schema, keys.slice(0, i))}`
      );
    }
    if (i === keys.length - 1) {
      node[key] = YAML.parse(override.slice(eq + 1));
    } else {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
  }
}

export function loadConfig<S extends AnyObject>(schema: S, source: ConfigSource = {}): z.output<S> {
  const raw = source.file ? readFile(source.file) : {};
  const origin = source.file ?? 'config';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TorchmotionError(`${origin}: expected a mapping of keys to values at the top level`);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const o of source.overrides ?? []) applyOverride(merged, o, schema);
  const parsed = schema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return (
        `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} at ` +
        `${where(issue.path)}; valid keys are ${validKeys(schema, issue.path)}`
      );
    }
    return `${where(issue.path)}: ${issue.message}`;
  });
  throw new TorchmotionError(`${origin}: ${problems.join('; ')}`);
}
