// The sandbox exchange's refusals, in the exchange's words (the /v2 catalogue maps them to LBank's codes).
export type ExchangeErrorCode =
  | 'unknown_market'
  | 'duplicate_custom_id'
  | 'insufficient_balance'
  | 'post_only_would_take'
  | 'unknown_order'
  | 'already_filled'
  | 'already_cancelled'
  | 'invalid_fee_rate';

export class ExchangeError extends Error {
  constructor(
    readonly code: ExchangeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}
