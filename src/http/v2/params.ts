// Collects a v2 request's parameters from the query string and the body (LBank's SDKs use either).
import type { FastifyRequest } from 'fastify';
import { LbankError } from './errors.js';

/** A UTF-16 surrogate without its pair: text that has no UTF-8 form (a JSON body can carry one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function addAll(into: Record<string, string>, source: unknown): void {
  if (!source || typeof source !== 'object') return;
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    const shown = name.slice(0, 40);
    // Given twice, in one part or across the query string and the body: which one counts would be a
    // guess, and a signature may cover the other.
    if (Array.isArray(value) || Object.hasOwn(into, name)) throw new LbankError(10003, `parameter ${shown} is given more than once`);
    if (value === null || value === undefined) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // No database stores a NUL character in text; LBank accepts none either.
    if (text.includes('\u0000') || name.includes('\u0000')) throw new LbankError(10003, `parameter ${shown} contains a NUL character`);
    if (LONE_SURROGATE.test(text) || LONE_SURROGATE.test(name)) throw new LbankError(10003, `parameter ${shown} is not valid Unicode text`);
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
