// Raw signed requests, for tests that need to bend one part of a request at a time.
import { LbankClient } from '../../src/client/index.js';

export interface Envelope {
  result: string;
  error_code: number;
  msg?: string;
  data?: unknown;
  ts: number;
}

export interface Reply {
  status: number;
  body: Envelope;
}

export async function readReply(response: Response): Promise<Reply> {
  return { status: response.status, body: (await response.json()) as Envelope };
}

export interface RawOptions {
  params?: Record<string, string>;
  timestamp?: number;
  echostr?: string;
  /** Change the signed request before it is sent. */
  tamper?: (parts: { params: Record<string, string>; headers: Record<string, string> }) => void;
  inQuery?: boolean;
  extraHeaders?: Record<string, string>;
}

export async function signedPost(baseUrl: string, path: string, client: LbankClient, options: RawOptions = {}): Promise<Reply> {
  const signed = client.sign(options.params ?? {}, {
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(options.echostr !== undefined ? { echostr: options.echostr } : {}),
  });
  const parts = { params: { ...signed.params }, headers: { ...signed.headers } as Record<string, string> };
  options.tamper?.(parts);
  const body = new URLSearchParams(parts.params).toString();
  const url = new URL(`/v2/${path}.do`, baseUrl);
  if (options.inQuery) url.search = body;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...parts.headers, ...options.extraHeaders },
    body: options.inQuery ? '' : body,
  });
  return readReply(response);
}
