// Exact decimal arithmetic for balances; no binary floating point touches an amount.
import { Decimal } from 'decimal.js';

export { Decimal };

export interface Balance {
  available: string;
  frozen: string;
}

export class LedgerError extends Error {
  constructor(readonly rule: 'insufficient_balance' | 'invalid_amount', message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

const AMOUNT = /^(0|[1-9]\d{0,29})(\.\d{1,18})?$/;

/** Parses a positive amount written as a plain decimal, with at most `scale` decimal places. */
export function parseAmount(text: string, scale: number): Decimal {
  if (!AMOUNT.test(text)) throw new LedgerError('invalid_amount', `"${text.slice(0, 40)}" is not a plain positive decimal number`);
  const value = new Decimal(text);
  if (value.lte(0)) throw new LedgerError('invalid_amount', 'The amount must be greater than zero');
  if (value.decimalPlaces() > scale) throw new LedgerError('invalid_amount', `The amount has more than ${scale} decimal places`);
  return value;
}

/** Applies a change to a balance; neither side may go below zero. */
export function applyDelta(balance: Balance, availableDelta: Decimal.Value, frozenDelta: Decimal.Value): Balance {
  const available = new Decimal(balance.available).plus(availableDelta);
  const frozen = new Decimal(balance.frozen).plus(frozenDelta);
  if (available.isNegative() || frozen.isNegative()) throw new LedgerError('insufficient_balance', 'Insufficient balance');
  return { available: available.toFixed(), frozen: frozen.toFixed() };
}

export const ZERO_BALANCE: Balance = { available: '0', frozen: '0' };
