// The /v2 error catalogue: LBank's numeric codes and their messages, and the one mapping from
// domain errors to them.
import { OrderRuleError } from '../../domain/orders.js';
import { SharedStateUnavailableError } from '../../domain/request-auth.js';
import { WriteContentionError } from '../../storage/batch-writer.js';
import { WithdrawalRuleError } from '../../domain/withdrawals.js';
import { ExchangeError } from '../../services/exchange.js';
import { WithdrawalError } from '../../services/withdrawals.js';

export const LBANK_ERRORS = {
  404: 'Not found',
  10000: 'Internal error',
  10001: 'The required parameters can not be empty',
  10003: 'Invalid parameter',
  10004: 'Request too frequent',
  10005: 'Secret key does not exist',
  10007: 'Invalid signature',
  10008: 'Invalid Trading Pair',
  10009: 'Price and/or Amount are required for limit order',
  10010: 'Price and/or Amount must be less than minimum requirement',
  10013: 'The amount is too small',
  10015: 'Invalid order type',
  10016: 'Insufficient account balance',
  10017: 'Server Error',
  10018: 'Page size should be between 1 and 200',
  10019: 'Cancel NO more than 3 orders in one request',
  10022: 'Invalid authorization',
  10025: 'Order has been filled',
  10026: 'Order has been cancelled',
  10028: 'Wrong query time',
  10031: 'echostr length must be valid and length must be from 30 to 40',
  10032: 'Order does not exist',
  10033: 'Failed to create order',
  10036: 'customID duplicated',
  10100: 'Has no privilege to withdraw',
  10101: 'Invalid fee rate to withdraw',
  10102: 'Too little to withdraw',
  10104: 'Cancel was rejected',
  10109: 'wallet address is not mapping',
  10600: 'intercepted by replay attacks filter, check timestamp',
  10701: 'invalid asset code',
} as const;

export type LbankErrorCode = keyof typeof LBANK_ERRORS;

/**
 * LBank answers its errors with HTTP 200, except where a client should back off: a rate limit (429,
 * which ccxt also maps to RateLimitExceeded) and a service that cannot answer now (503).
 */
const HTTP_STATUS: Partial<Record<LbankErrorCode, number>> = { 10004: 429 };

export class LbankError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: LbankErrorCode,
    detail?: string,
    httpStatus?: number,
  ) {
    super(detail ? `${LBANK_ERRORS[code]}: ${detail}` : LBANK_ERRORS[code]);
    this.name = 'LbankError';
    this.httpStatus = httpStatus ?? HTTP_STATUS[code] ?? 200;
  }
}

const ORDER_RULES: Record<OrderRuleError['rule'], LbankErrorCode> = {
  invalid_type: 10015,
  price_or_amount_missing: 10009,
  price_or_amount_invalid: 10010,
  amount_too_small: 10013,
  amount_too_large: 10003,
};

const EXCHANGE: Record<ExchangeError['code'], LbankErrorCode> = {
  unknown_market: 10008,
  duplicate_custom_id: 10036,
  insufficient_balance: 10016,
  post_only_would_take: 10033,
  unknown_order: 10032,
  already_filled: 10025,
  already_cancelled: 10026,
  invalid_fee_rate: 10003,
};

const WITHDRAWAL_RULES: Record<WithdrawalRuleError['rule'], LbankErrorCode> = {
  unknown_asset: 10701,
  unknown_network: 10701,
  invalid_amount: 10003,
  below_minimum: 10102,
  fee_mismatch: 10101,
  invalid_address: 10109,
};

const WITHDRAWALS: Record<WithdrawalError['code'], LbankErrorCode> = {
  insufficient_balance: 10016,
  unknown_withdrawal: 10104,
  not_cancellable: 10104,
  unknown_recipient: 10109,
};

/** The LBank error a domain error stands for, or undefined for an unexpected error. */
export function toLbankError(error: unknown): LbankError | undefined {
  if (error instanceof LbankError) return error;
  if (error instanceof SharedStateUnavailableError) return new LbankError(10017, 'the fleet\'s shared state (Redis) is unreachable; nothing was done, retry shortly', 503);
  if (error instanceof WriteContentionError) return new LbankError(10017, 'the database met too many concurrent writes; nothing was done, retry shortly', 503);
  if (error instanceof OrderRuleError) return new LbankError(ORDER_RULES[error.rule], error.message);
  if (error instanceof ExchangeError) return new LbankError(EXCHANGE[error.code], error.message);
  if (error instanceof WithdrawalRuleError) return new LbankError(WITHDRAWAL_RULES[error.rule], error.message);
  if (error instanceof WithdrawalError) return new LbankError(WITHDRAWALS[error.code], error.message);
  return undefined;
}
