// Authentication of a signed v2 request, independent of HTTP and storage.
// The order of checks is deliberate: cheap syntactic checks first, then the key, then the signature;
// the echostr is consumed only by a correctly signed request so that nobody can burn another's nonces.
import type { KeyObject } from 'node:crypto';
import { effectiveAuthority, type Authority, type KeyStatus } from './keys.js';
import { keyCharge, type RateCharge, type RateClass, type RateLimits } from './rate-limits.js';
import {
  alternateEncodings,
  buildStringToSign,
  md5UpperHex,
  verifyHmacSignature,
  verifyRsaSignature,
  type SignatureMethod,
} from './signing.js';

/** How far ahead of the server's clock a timestamp may be. */
export const MAX_CLOCK_AHEAD_MS = 1000;
/**
 * Bounds on a signed request's parameters (authentication ones included), checked before anything
 * else: building and hashing the strings to sign grows with them. The largest legitimate request, a
 * batch of 50 orders, is about a dozen parameters and 10 KiB.
 */
export const MAX_SIGNED_PARAMETERS = 64;
export const MAX_SIGNED_PARAMETER_BYTES = 16 * 1024;
const ECHOSTR_PATTERN = /^[A-Za-z0-9]{30,40}$/;

/** A key as the verifier needs it: secret material already usable. */
export interface VerifiableKey {
  apiKey: string;
  userId: number;
  method: SignatureMethod;
  status: KeyStatus;
  ips: readonly string[];
  authority: readonly Authority[];
  createdAt: number;
  hmacSecret?: string;
  rsaPublicKey?: KeyObject;
}

/** The parts of a key that change over its life; its owner, method and secret never do. */
export interface KeyState {
  status: KeyStatus;
  ips: readonly string[];
  authority: readonly Authority[];
}

export interface ClaimResult {
  /** false: this (api_key, echostr) was already seen within the receive window. */
  claimed: boolean;
  /**
   * The key's state as stored at the moment of the claim, when the key was looked up in a cache that
   * may be stale (many servers on one database); null when the key is gone. Absent: the lookup was fresh.
   */
  current?: KeyState | null;
  /** true: the request was claimed, but the key's rate budget was already spent (the request is not counted). */
  rateLimited?: boolean;
  /**
   * true: the shared store lost its memory of nonces (a restart) after this timestamp was signed, so
   * the request could be a replay that nothing remembers; the client signs again with a fresh timestamp.
   */
  signedBeforeReset?: boolean;
}

/**
 * Remembers each (apiKey, echostr) for as long as a copy of its request could still be accepted.
 * Every implementation keeps this contract, judged by its own clock `now` at the moment of the claim:
 * - the nonce is kept (a second claim fails) while now < expiresAt;
 * - a claim made when now >= expiresAt fails too: the request went stale on its way to the claim,
 *   and storing it would protect nothing (the copy that follows would find it already expired).
 * The domain passes as expiresAt the first instant at which the request's timestamp is refused.
 */
export interface ReplayGuard {
  /**
   * Records (apiKey, echostr) until expiresAt and, once claimed, counts the request against `rate`.
   * Throws SharedStateUnavailableError when the claim cannot be made: a request is never accepted
   * unclaimed.
   */
  claim(apiKey: string, echostr: string, expiresAt: number, rate?: RateCharge, sentAt?: number): Promise<ClaimResult>;
}

/** The store shared by a fleet (Redis) cannot be reached: signed requests fail closed. */
export class SharedStateUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The shared state store is unreachable', { cause });
    this.name = 'SharedStateUnavailableError';
  }
}

export interface SignedRequest {
  /** Query and body parameters, merged. */
  params: Readonly<Record<string, string>>;
  /** The timestamp, signature_method and echostr HTTP headers, when sent. */
  headers: Readonly<{ timestamp?: string; signature_method?: string; echostr?: string }>;
  clientIp: string;
  now: number;
  /** Which of the key's rate budgets this request spends. */
  rateClass: RateClass;
}

export type AuthFailure =
  | { reason: 'parameters_over_limit'; limit: string }
  | { reason: 'missing_parameter'; parameter: string }
  | { reason: 'invalid_echostr' }
  | { reason: 'stale_timestamp' }
  | { reason: 'replayed' }
  | { reason: 'signed_before_reset' }
  | { reason: 'rate_limited' }
  | { reason: 'unknown_key' }
  | { reason: 'method_mismatch'; expected: SignatureMethod }
  | { reason: 'bad_signature'; stringToSign: string }
  | { reason: 'ip_not_allowed'; ip: string };

export type AuthResult = { ok: true; key: VerifiableKey } | ({ ok: false; key?: VerifiableKey } & AuthFailure);

export interface AuthContext {
  findKey(apiKey: string): Promise<VerifiableKey | undefined>;
  replayGuard: ReplayGuard;
  recvWindowMs: number;
  rateLimits: RateLimits;
}

const REQUIRED = ['api_key', 'sign', 'timestamp', 'signature_method', 'echostr'] as const;

export async function authenticateSignedRequest(request: SignedRequest, context: AuthContext): Promise<AuthResult> {
  // Headers win over parameters of the same name; both end up in the signed set once.
  const signed: Record<string, string> = { ...request.params };
  for (const name of ['timestamp', 'signature_method', 'echostr'] as const) {
    const fromHeader = request.headers[name];
    if (fromHeader !== undefined && fromHeader !== '') signed[name] = fromHeader;
  }
  const oversized = parameterLimitBroken(signed);
  if (oversized) return { ok: false, reason: 'parameters_over_limit', limit: oversized };
  for (const name of REQUIRED) {
    if (!signed[name]) return { ok: false, reason: 'missing_parameter', parameter: name };
  }
  const { api_key: apiKey, sign, timestamp, signature_method: method, echostr } = signed as Record<(typeof REQUIRED)[number], string>;

  if (!ECHOSTR_PATTERN.test(echostr)) return { ok: false, reason: 'invalid_echostr' };
  const sentAt = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isFinite(sentAt) || request.now >= firstRefusedInstant(sentAt, context.recvWindowMs) || sentAt > request.now + MAX_CLOCK_AHEAD_MS) {
    return { ok: false, reason: 'stale_timestamp' };
  }

  // The lookup may come from a cache; owner, method and secret never change, so the signature can be
  // checked against it. Status, IPs and authority are taken as they stand at the claim of the echostr.
  const found = await context.findKey(apiKey);
  if (!found || found.status === 'deleted') return { ok: false, reason: 'unknown_key' };
  if (method !== found.method) return { ok: false, reason: 'method_mismatch', expected: found.method, key: found };

  const stringToSign = buildStringToSign(signed);
  if (!signatureMatches(found, stringToSign, sign) && !alternateEncodingMatches(found, signed, sign)) {
    return { ok: false, reason: 'bad_signature', stringToSign, key: found };
  }

  // A timestamp exactly recvWindowMs old is still accepted: the nonce must outlive that instant.
  const claim = await context.replayGuard.claim(apiKey, echostr, firstRefusedInstant(sentAt, context.recvWindowMs), keyCharge(context.rateLimits, apiKey, request.rateClass), sentAt);
  if (claim.current === null) return { ok: false, reason: 'unknown_key' };
  const key: VerifiableKey = claim.current ? { ...found, ...claim.current } : found;
  if (key.status !== 'enabled') return { ok: false, reason: 'unknown_key' };
  if (claim.signedBeforeReset) return { ok: false, reason: 'signed_before_reset', key };
  if (!claim.claimed) return { ok: false, reason: 'replayed', key };
  if (claim.rateLimited) return { ok: false, reason: 'rate_limited', key };
  if (key.ips.length > 0 && !key.ips.includes(request.clientIp)) {
    return { ok: false, reason: 'ip_not_allowed', ip: request.clientIp, key };
  }
  return { ok: true, key };
}

/** Which bound on the parameters a request breaks, in words, or undefined. */
function parameterLimitBroken(params: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(params);
  if (names.length > MAX_SIGNED_PARAMETERS) return `at most ${MAX_SIGNED_PARAMETERS} parameters; this request has ${names.length}`;
  let bytes = 0;
  for (const name of names) bytes += Buffer.byteLength(name) + Buffer.byteLength(params[name]!);
  if (bytes > MAX_SIGNED_PARAMETER_BYTES) return `at most ${MAX_SIGNED_PARAMETER_BYTES} bytes of parameter names and values; this request has ${bytes}`;
  return undefined;
}

/** The first instant at which a request sent at sentAt is outside the receive window (one that old is still in). */
function firstRefusedInstant(sentAt: number, recvWindowMs: number): number {
  return sentAt + recvWindowMs + 1;
}

function signatureMatches(key: VerifiableKey, stringToSign: string, sign: string): boolean {
  const digest = md5UpperHex(stringToSign);
  if (key.method === 'HmacSHA256') return key.hmacSecret !== undefined && verifyHmacSignature(digest, key.hmacSecret, sign);
  return key.rsaPublicKey !== undefined && verifyRsaSignature(digest, key.rsaPublicKey, sign);
}

/** Clients that URL-encode values before signing (hummingbot, LBank's Node connector) are accepted too. */
function alternateEncodingMatches(key: VerifiableKey, signed: Record<string, string>, sign: string): boolean {
  return alternateEncodings(signed).some((encoding) => signatureMatches(key, buildStringToSign(signed, encoding), sign));
}

/** Whether a key holds an authority right now (non-read authority of an unbound key lapses). */
export function holdsAuthority(key: VerifiableKey, authority: Authority, now: number): boolean {
  return effectiveAuthority(key, now).includes(authority);
}
