// Exact decimal arithmetic for balances; no binary floating point touches an amount.
import { Decimal as DecimalBase } from 'decimal.js';

/** Amounts the ledger accepts (orders, deposits, withdrawals, transfers): at most this many digits before the point… */
export const MAX_INTEGER_DIGITS = 20;
/** …and at most this many after it (an asset's or a market's own scale may allow fewer). */
export const MAX_SCALE = 18;
/** The largest amount accepted: 20 nines, the point, 18 nines. */
export const MAX_AMOUNT = `${'9'.repeat(MAX_INTEGER_DIGITS)}.${'9'.repeat(MAX_SCALE)}`;

/**
 * Significant digits every result keeps. decimal.js rounds each result to its precision (20 by
 * default), which silently changes large amounts. An accepted amount has at most 38 digits, the
 * product of two (an order's price × quantity) at most 76, and sums of such add a few more; 100 keeps
 * all of them exact. A quotient (a market buy's budget ÷ price) is rounded at the 100th digit, far
 * below the 18 places it is then cut to: of two 38-digit numbers it cannot carry 40 nines in a row.
 */
export const LEDGER_PRECISION = 100;

/** decimal.js with the ledger's precision; every amount in Keygate is one of these. */
export const Decimal = DecimalBase.clone({ precision: LEDGER_PRECISION, rounding: DecimalBase.ROUND_HALF_UP, toExpNeg: -LEDGER_PRECISION, toExpPos: LEDGER_PRECISION });
export type Decimal = DecimalBase;
export type DecimalValue = DecimalBase.Value;

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

const PLAIN_DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/;

/** Why the text of an amount cannot be accepted, in words; undefined when it can. */
export function amountTextProblem(text: string, what = 'The amount', plain = 'a plain decimal number'): { rule: 'malformed' | 'too_large'; message: string } | undefined {
  const match = PLAIN_DECIMAL.exec(text);
  if (!match || text.length > 200) return { rule: 'malformed', message: `${what} "${text.slice(0, 40)}" is not ${plain}` };
  if (match[1]!.length > MAX_INTEGER_DIGITS) return { rule: 'too_large', message: `${what} is above the largest Keygate accepts, ${MAX_AMOUNT} (at most ${MAX_INTEGER_DIGITS} digits before the point)` };
  if ((match[2]?.length ?? 1) - 1 > MAX_SCALE) return { rule: 'malformed', message: `${what} has more than ${MAX_SCALE} decimal places` };
  return undefined;
}

/** Parses a positive amount written as a plain decimal, with at most `scale` decimal places. */
export function parseAmount(text: string, scale: number): Decimal {
  const problem = amountTextProblem(text, 'The amount', 'a plain positive decimal number');
  if (problem) throw new LedgerError('invalid_amount', problem.message);
  const value = new Decimal(text);
  if (value.lte(0)) throw new LedgerError('invalid_amount', 'The amount must be greater than zero');
  if (value.decimalPlaces() > scale) throw new LedgerError('invalid_amount', `The amount has more than ${scale} decimal places`);
  return value;
}

/** Applies a change to a balance; neither side may go below zero. */
export function applyDelta(balance: Balance, availableDelta: DecimalValue, frozenDelta: DecimalValue): Balance {
  const available = new Decimal(balance.available).plus(availableDelta);
  const frozen = new Decimal(balance.frozen).plus(frozenDelta);
  if (available.isNegative() || frozen.isNegative()) throw new LedgerError('insufficient_balance', 'Insufficient balance');
  return { available: available.toFixed(), frozen: frozen.toFixed() };
}

export const ZERO_BALANCE: Balance = { available: '0', frozen: '0' };
