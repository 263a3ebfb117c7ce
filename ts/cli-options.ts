// Option parsers the CLI's command modules share (commander).

// A repeatable option (`--text a --text b`): each occurrence appended to the list.
export const collect = (value: string, previous: string[]) => [...previous, value];
