// JSON for WebSocket frames. LBank writes prices and amounts in these frames as JSON numbers; Keygate
// holds them as exact decimal strings, and writes them as number literals digit for digit (through no
// binary float), so that a client parsing to a decimal type gets them exactly.
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A decimal to write as a JSON number. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A decimal string as a JSON number (anything else stays a string). */
export function num(text: string): JsonNumber | string {
  return DECIMAL.test(text) ? new JsonNumber(text) : text;
}

export function toJson(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJson(v)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}
