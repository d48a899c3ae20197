// Registers the signed (private) v2 endpoints: every one authenticates the same way, then checks
// the authority the endpoint declares, then runs its handler.
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import type { Authority } from '../../domain/keys.js';
import { authenticateSignedRequest, holdsAuthority, SharedStateUnavailableError, type AuthFailure, type VerifiableKey } from '../../domain/request-auth.js';
import { canonicalIp, IP_BOUND_AUTHORITIES } from '../../domain/keys.js';
import { rejectionReason } from '../../domain/audit.js';
import type { RateClass } from '../../domain/rate-limits.js';
import { success } from './envelope.js';
import { LbankError, toLbankError } from './errors.js';
import { authHeaders, requestParams } from './params.js';

export interface SignedContext {
  key: VerifiableKey;
  /** The request's parameters, including the authentication ones. */
  params: Readonly<Record<string, string>>;
  now: number;
}

export interface SignedEndpoint {
  /** Path under /v2 without the .do suffix, e.g. "supplement/api_Restrictions". */
  path: string;
  /** The authority the endpoint needs; a function when it depends on the request (a transfer versus a withdrawal). */
  authority: Authority | ((params: Readonly<Record<string, string>>) => Authority);
  /** Order placements and cancellations spend the key's order budget; everything else the other one. */
  rateClass?: RateClass;
  /** LBank answers this endpoint with `"result": true` (a boolean) rather than the string "true". */
  booleanResult?: boolean;
  handler(context: SignedContext): Promise<unknown>;
}

function rejection(failure: AuthFailure): LbankError {
  switch (failure.reason) {
    case 'parameters_over_limit':
      return new LbankError(10003, failure.limit);
    case 'missing_parameter':
      return new LbankError(10001, failure.parameter);
    case 'invalid_echostr':
      return new LbankError(10031);
    case 'stale_timestamp':
      return new LbankError(10600, 'timestamp is outside the receive window');
    case 'replayed':
      return new LbankError(10600, 'this echostr was already used');
    case 'signed_before_reset':
      return new LbankError(10600, 'the fleet\'s replay memory was reset after this timestamp; sign again with the current time');
    case 'rate_limited':
      return new LbankError(10004, 'this key has used its budget of requests for the last 10 seconds');
    case 'unknown_key':
      return new LbankError(10005);
    case 'method_mismatch':
      return new LbankError(10007, `this key signs with ${failure.expected}`);
    case 'bad_signature':
      return new LbankError(10007, `the server signed the string: ${failure.stringToSign}`);
    case 'ip_not_allowed':
      return new LbankError(10022, `IP ${failure.ip} is not in this key's whitelist`);
  }
}

/** Tells the key's owner (audit log, aggregated per minute) about a refusal that concerns their key. */
function auditRejection(app: App, key: VerifiableKey, failure: string, ip: string, now: number): void {
  const reason = rejectionReason(failure);
  if (reason) app.audit.recordRejection(key, reason, ip, now);
}

/** Counts a refusal (metrics) by its code and reason: both from closed sets. */
function refused(app: App, error: LbankError, reason: string): LbankError {
  app.metrics.signedRefusals.inc({ code: String(error.code), reason });
  return error;
}

export function registerSignedEndpoints(server: FastifyInstance, app: App, endpoints: readonly SignedEndpoint[]): void {
  for (const endpoint of endpoints) {
    server.post(`/v2/${endpoint.path}.do`, { config: { signed: true } }, async (request) => {
      let params: Record<string, string>;
      try {
        params = requestParams(request);
      } catch (error) {
        if (error instanceof LbankError) refused(app, error, 'malformed');
        throw error;
      }
      const now = app.now();
      const clientIp = canonicalIp(request.ip) ?? request.ip;
      let result: Awaited<ReturnType<typeof authenticateSignedRequest>>;
      try {
        result = await authenticateSignedRequest(
          { params, headers: authHeaders(request), clientIp, now, rateClass: endpoint.rateClass ?? 'other' },
          { findKey: (apiKey) => app.keyDirectory.find(apiKey), replayGuard: app.replayGuard, recvWindowMs: app.config.recvWindowMs, rateLimits: app.config.rateLimits },
        );
      } catch (error) {
        const lbank = toLbankError(error);
        if (lbank) refused(app, lbank, error instanceof SharedStateUnavailableError ? 'shared_state_unavailable' : 'other');
        throw error;
      }
      if (!result.ok) {
        if (result.key) auditRejection(app, result.key, result.reason, clientIp, now);
        throw refused(app, rejection(result), result.reason);
      }
      const authority = typeof endpoint.authority === 'function' ? endpoint.authority(params) : endpoint.authority;
      if (!holdsAuthority(result.key, authority, now)) {
        auditRejection(app, result.key, 'authority_missing', clientIp, now);
        const unbound = result.key.ips.length === 0 && IP_BOUND_AUTHORITIES.includes(authority) && result.key.authority.includes(authority);
        const detail = `this key does not hold ${authority} authority${unbound ? ': it needs an IP whitelist' : ''}`;
        throw refused(app, authority === 'withdraw' ? new LbankError(10100, unbound ? detail : undefined) : new LbankError(10022, detail), 'authority_missing');
      }
      app.keyDirectory.recordUse(result.key.apiKey, now, clientIp);
      return success(await endpoint.handler({ key: result.key, params, now }), app.now(), endpoint.booleanResult);
    });
  }
}
