// LBank's response envelope.
export interface SuccessEnvelope<T> {
  result: 'true';
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

export function success<T>(data: T, ts: number): SuccessEnvelope<T> {
  return { result: 'true', data, error_code: 0, ts };
}

export function failure(code: number, msg: string, ts: number): FailureEnvelope {
  return { result: 'false', error_code: code, msg, ts };
}
