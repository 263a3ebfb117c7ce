// One way to say what is wrong: the value's name, what was expected, what was received, and the fix.
export class TorchmotionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TorchmotionError';
  }
}

// Text from a file (a pickled module name, a tensor key, an archive entry) printed to a terminal: control characters
// (ESC sequences that clear the screen or move the cursor, carriage returns that overwrite a line, bidirectional
// overrides that reorder what is shown) become visible escapes, so a file can never forge what the user reads.
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `'${printable(value)}'`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function invalid(what: string, expected: string, received: unknown, fix?: string): TorchmotionError {
  return new TorchmotionError(
    `Expected ${expected} for ${what} but received ${describe(received)}${fix ? `: ${fix}` : ''}`
  );
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
