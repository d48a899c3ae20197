// Collects a v2 request's parameters from the query string and the body (LBank's SDKs use either).
import type { FastifyRequest } from 'fastify';
import { LbankError } from './errors.js';

function addAll(into: Record<string, string>, source: unknown): void {
  if (!source || typeof source !== 'object') return;
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (Array.isArray(value)) throw new LbankError(10003, `parameter ${name.slice(0, 40)} is given more than once`);
    if (value === null || value === undefined) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // No database stores a NUL character in text; LBank accepts none either.
    if (text.includes('\u0000') || name.includes('\u0000')) throw new LbankError(10003, `parameter ${name.slice(0, 40)} contains a NUL character`);
    into[name] = text;
  }
}

/** The parameters of any /v2 request, signed or public, from its query string and body. */
export function requestParams(request: FastifyRequest): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  addAll(params, request.query);
  addAll(params, request.body);
  return params;
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function authHeaders(request: FastifyRequest): { timestamp?: string; signature_method?: string; echostr?: string } {
  const headers: { timestamp?: string; signature_method?: string; echostr?: string } = {};
  const timestamp = headerValue(request, 'timestamp');
  const method = headerValue(request, 'signature_method');
  const echostr = headerValue(request, 'echostr');
  if (timestamp !== undefined) headers.timestamp = timestamp;
  if (method !== undefined) headers.signature_method = method;
  if (echostr !== undefined) headers.echostr = echostr;
  return headers;
}
