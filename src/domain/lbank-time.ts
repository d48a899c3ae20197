// LBank's clock face: its WebSocket frames stamp `TS` (and kbar slots) in Beijing time, UTC+8, with no
// zone suffix, and its REST date parameters are read in the same zone. Keygate keeps that fidelity so
// that a bot behaves against Keygate as it does against LBank; every epoch-millisecond field is exact.
export const LBANK_OFFSET_MS = 8 * 60 * 60 * 1000;

/** `2019-06-28T17:49:22.722` for an instant, in UTC+8, as LBank writes `TS`. */
export function lbankDateTime(ms: number): string {
  return new Date(ms + LBANK_OFFSET_MS).toISOString().slice(0, 23);
}

/**
 * Reads a time as LBank's kbar requests give it: epoch seconds (`1533288720`) or a UTC+8 date-time
 * (`2018-08-03T17:32:00`, seconds and fraction optional). Undefined when it is neither.
 */
export function parseLbankInstant(text: string): number | undefined {
  if (/^\d{1,12}$/.test(text)) return Number(text) * 1000;
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(text);
  if (!match) return undefined;
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = match.slice(1, 7).map((v) => Number(v ?? 0));
  const ms = Number((match[7] ?? '0').padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const time = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isNaN(time) ? undefined : time - LBANK_OFFSET_MS;
}
