// The /v2 error catalogue: LBank's numeric codes and their messages, in one place.
export const LBANK_ERRORS = {
  10000: 'Internal error',
  10001: 'The required parameters can not be empty',
  10003: 'Invalid parameter',
  10004: 'Request too frequent',
  10005: 'Secret key does not exist',
  10007: 'Invalid signature',
  10008: 'Invalid Trading Pair',
  10022: 'Invalid authorization',
  10031: 'echostr length must be valid and length must be from 30 to 40',
  10100: 'Has no privilege to withdraw',
  10600: 'intercepted by replay attacks filter, check timestamp',
  10701: 'invalid asset code',
} as const;

export type LbankErrorCode = keyof typeof LBANK_ERRORS;

export class LbankError extends Error {
  constructor(
    readonly code: LbankErrorCode,
    detail?: string,
  ) {
    super(detail ? `${LBANK_ERRORS[code]}: ${detail}` : LBANK_ERRORS[code]);
    this.name = 'LbankError';
  }
}
