// What a client may send on /ws/V2/, read leniently where LBank's clients differ (depth as a number or
// a string, channel names in any case) and strictly everywhere else: anything else is an error frame.
import { isKbarSlot, KBAR_SLOTS, type KbarSlot } from '../../domain/kbar.js';
import { parseLbankInstant } from '../../domain/lbank-time.js';
import type { RequestSpec, SubscriptionSpec } from '../../services/streams.js';

export type Command =
  | { action: 'ping'; id: unknown }
  | { action: 'pong'; id: unknown }
  | { action: 'subscribe'; spec: SubscriptionSpec }
  | { action: 'unsubscribe'; spec: UnsubscribeSpec }
  | { action: 'request'; spec: RequestSpec };

/** What an unsubscription names: its channel, and whatever narrows it. */
export interface UnsubscribeSpec {
  channel: SubscriptionSpec['channel'];
  pair?: string;
  size?: number;
  slot?: KbarSlot;
  subscribeKey?: string;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const CHANNELS: Record<string, SubscriptionSpec['channel']> = {
  depth: 'depth',
  trade: 'trade',
  tick: 'tick',
  kbar: 'kbar',
  incrdepth: 'incrdepth',
  orderupdate: 'orderUpdate',
  assetupdate: 'assetUpdate',
};
const REQUESTS = ['depth', 'trade', 'tick', 'kbar'] as const;
export const MAX_DEPTH = 100;
export const MAX_TRADES = 600;
export const MAX_KBARS = 2000;

const missing = (name: string) => new ProtocolError(`Missing parameter ['${name}']`);

function text(message: Record<string, unknown>, name: string, required = true): string | undefined {
  const value = message[name];
  if (value === undefined || value === null || value === '') {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof value !== 'string') throw new ProtocolError(`${name} must be a string`);
  if (value.length > 200) throw new ProtocolError(`${name} is too long`);
  return value;
}

function whole(message: Record<string, unknown>, name: string, min: number, max: number, fallback?: number): number {
  const value = message[name];
  if (value === undefined || value === null || value === '') {
    if (fallback === undefined) throw missing(name);
    return fallback;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ProtocolError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function pair(message: Record<string, unknown>, required = true): string | undefined {
  const value = text(message, 'pair', required);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (!/^[a-z0-9]{1,16}_[a-z0-9]{1,16}$/.test(lower) && lower !== 'all') throw new ProtocolError(`unknown pair ${value.slice(0, 40)}`);
  return lower;
}

function marketPair(message: Record<string, unknown>): string {
  const value = pair(message)!;
  if (value === 'all') throw new ProtocolError('pair must be a trading pair such as btc_usdt');
  return value;
}

function slot(message: Record<string, unknown>, required = true): KbarSlot | undefined {
  const value = text(message, 'kbar', required);
  if (value === undefined) return undefined;
  if (!isKbarSlot(value)) throw new ProtocolError(`unknown kbar ${value.slice(0, 20)}: one of ${KBAR_SLOTS.join(', ')}`);
  return value;
}

function instant(message: Record<string, unknown>, name: string): number | undefined {
  const value = message[name];
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value * 1000 : typeof value === 'string' ? parseLbankInstant(value) : undefined;
  if (parsed === undefined) throw new ProtocolError(`${name} must be epoch seconds or a UTC+8 time such as 2018-08-03T17:32:00`);
  return parsed;
}

function channel(message: Record<string, unknown>, field: string): SubscriptionSpec['channel'] {
  const value = text(message, field)!;
  const found = CHANNELS[value.toLowerCase()];
  if (!found) throw new ProtocolError(`unknown ${field} ${value.slice(0, 40)}: one of depth, trade, tick, kbar, incrdepth, orderUpdate, assetUpdate`);
  return found;
}

function subscription(message: Record<string, unknown>): SubscriptionSpec {
  const name = channel(message, 'subscribe');
  switch (name) {
    case 'depth':
      return { channel: name, pair: marketPair(message), size: whole(message, 'depth', 1, MAX_DEPTH) };
    case 'trade':
    case 'tick':
    case 'incrdepth':
      return { channel: name, pair: marketPair(message) };
    case 'kbar':
      return { channel: name, pair: marketPair(message), slot: slot(message)! };
    case 'orderUpdate':
      return { channel: name, pair: pair(message)!, subscribeKey: text(message, 'subscribeKey')! };
    case 'assetUpdate':
      return { channel: name, subscribeKey: text(message, 'subscribeKey')! };
  }
}

/** An unsubscription names its channel and whatever else narrows it (LBank's bodies repeat the subscription). */
function unsubscription(message: Record<string, unknown>): UnsubscribeSpec {
  const spec: UnsubscribeSpec = { channel: channel(message, 'subscribe') };
  const p = pair(message, false);
  if (p !== undefined) spec.pair = p;
  if (spec.channel === 'depth' && message.depth !== undefined) spec.size = whole(message, 'depth', 1, MAX_DEPTH);
  const s = spec.channel === 'kbar' ? slot(message, false) : undefined;
  if (s !== undefined) spec.slot = s;
  const key = text(message, 'subscribeKey', false);
  if (key !== undefined) spec.subscribeKey = key;
  return spec;
}

function request(message: Record<string, unknown>): RequestSpec {
  const value = text(message, 'request')!;
  const name = REQUESTS.find((r) => r === value.toLowerCase());
  if (!name) throw new ProtocolError(`unknown request ${value.slice(0, 40)}: one of ${REQUESTS.join(', ')}`);
  const p = marketPair(message);
  switch (name) {
    case 'depth':
      return { request: name, pair: p, size: whole(message, 'depth', 1, MAX_DEPTH, MAX_DEPTH) };
    case 'trade':
      return { request: name, pair: p, size: whole(message, 'size', 1, MAX_TRADES, 100) };
    case 'tick':
      return { request: name, pair: p };
    case 'kbar': {
      const start = instant(message, 'start');
      const end = instant(message, 'end');
      if (start !== undefined && end !== undefined && end < start) throw new ProtocolError('end must not be before start');
      return { request: name, pair: p, slot: slot(message)!, size: whole(message, 'size', 1, MAX_KBARS, 100), ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
    }
  }
}

/** Reads one client frame (already within the size limit). */
export function parseCommand(raw: string): Command {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    throw new ProtocolError('invalid JSON');
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) throw new ProtocolError('a frame must be a JSON object');
  const m = message as Record<string, unknown>;
  const action = text(m, 'action')!;
  switch (action) {
    case 'ping':
      if (m.ping === undefined) throw missing('ping');
      return { action, id: m.ping };
    case 'pong':
      if (m.pong === undefined) throw missing('pong');
      return { action, id: m.pong };
    case 'subscribe':
      return { action, spec: subscription(m) };
    case 'unsubscribe':
      return { action, spec: unsubscription(m) };
    case 'request':
      return { action, spec: request(m) };
    default:
      throw new ProtocolError(`unknown action ${action.slice(0, 40)}: one of subscribe, unsubscribe, request, ping, pong`);
  }
}
