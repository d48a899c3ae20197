// LBank's response envelope. LBank answers some endpoints with the string "true" and others with the
// boolean true (clients check: ccxt pro's watchOrders wants the boolean from subscribe/get_key), so each
// endpoint says which it sends.
export interface SuccessEnvelope<T> {
  result: 'true' | true;
  data: T;
  error_code: 0;
  ts: number;
}

export interface FailureEnvelope {
  result: 'false';
  error_code: number;
  msg: string;
  ts: number;
}

export function success<T>(data: T, ts: number, booleanResult = false): SuccessEnvelope<T> {
  return { result: booleanResult ? true : 'true', data, error_code: 0, ts };
}

export function failure(code: number, msg: string, ts: number): FailureEnvelope {
  return { result: 'false', error_code: code, msg, ts };
}
