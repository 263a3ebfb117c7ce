// One way to say what is wrong: the value's name, what was expected, what was received, and the fix.
export class TorchmotionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TorchmotionError';
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function invalid(what: string, expected: string, received: unknown, fix?: string): TorchmotionError {
  return new TorchmotionError(`Expected ${expected} for ${what} but received ${describe(received)}${fix ? `: ${fix}` : ''}`);
}

// Native rejections carry no JS stack; re-raise them with the stack of the call site in the user's code.
export async function withCallerStack<T>(call: () => Promise<T>): Promise<T> {
  const site = new Error();
  try {
    return await call();
  } catch (err) {
    if (err instanceof Error && site.stack) {
      const rethrown = new TorchmotionError(err.message, { cause: err });
      rethrown.stack = `TorchmotionError: ${err.message}\n${site.stack.split('\n').slice(2).join('\n')}`;
      throw rethrown;
    }
    throw err;
  }
}
