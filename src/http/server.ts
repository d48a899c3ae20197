// Builds the HTTP server: one Fastify instance serving the LBank-compatible /v2 API, its WebSocket API
// at /ws/V2/ and the portal's JSON API under /api/v1.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { portalNotFound, registerPortal } from './portal/index.js';
import { accountEndpoints } from './v2/account-routes.js';
import { failure } from './v2/envelope.js';
import { LBANK_ERRORS, LbankError, toLbankError } from './v2/errors.js';
import { canonicalIp } from '../domain/keys.js';
import { ipCharge } from '../domain/rate-limits.js';
import { SharedStateUnavailableError } from '../domain/request-auth.js';
import { registerMarketRoutes } from './v2/market-routes.js';
import { orderQueryEndpoints } from './v2/order-query-routes.js';
import { registerPublicRoutes } from './v2/public-routes.js';
import { registerSignedEndpoints } from './v2/signed.js';
import { subscribeEndpoints } from './v2/subscribe-routes.js';
import { tradeEndpoints } from './v2/trade-routes.js';
import { walletEndpoints } from './v2/wallet-routes.js';
import { registerWeb } from './web.js';
import { registerHealthRoutes } from './health-routes.js';
import { countUnmatched, noteOutcome, registerMetrics } from './metrics.js';
import { registerWebSocket } from './ws/socket-server.js';

const BODY_LIMIT = 256 * 1024;

function parseForm(body: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = result[name];
    result[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return result;
}

export function buildHttpServer(app: App): FastifyInstance {
  const server = Fastify({
    // Typed as Fastify's logger so the instance has the default type the route modules take.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: app.logger as FastifyBaseLogger,
    trustProxy: app.config.trustProxy.length > 0 ? app.config.trustProxy : false,
    bodyLimit: BODY_LIMIT,
    // Requests are logged without their query strings: the portal never puts secrets there, but
    // clients of the signed API may put anything in parameters.
    logController: new LogController({ disableRequestLogging: true }),
    // While draining, a request that still reaches this server is served, not refused.
    return503OnClosing: false,
  });

  // LBank clients send form bodies; some send a content type with an empty body, or none at all.
  server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });
  server.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  server.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    countUnmatched(app, request, reply);
    const ts = app.now();
    const lbank = toLbankError(error);
    if (lbank) {
      noteOutcome(request, lbank.code);
      return reply.status(lbank.httpStatus).send(failure(lbank.code, lbank.message, ts));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      // Malformed bodies, wrong content types, oversized requests: the client's input, never a 5xx.
      noteOutcome(request, 10003);
      return reply.status(status).send(failure(10003, `${LBANK_ERRORS[10003]}: ${error.message}`, ts));
    }
    request.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
    noteOutcome(request, 10000);
    return reply.status(500).send(failure(10000, LBANK_ERRORS[10000], ts));
  });

  server.setNotFoundHandler((request, reply) => {
    countUnmatched(app, request, reply);
    const path = request.url.split('?')[0] ?? '';
    // LBank's clients get LBank's envelope; everything else gets the portal's error shape.
    if (/^\/(v2|cfd)(\/|$)/.test(path)) {
      noteOutcome(request, 404);
      return reply.status(404).send(failure(404, `Not found: ${request.method} ${path.slice(0, 200)}`, app.now()));
    }
    const answer = portalNotFound(request.method, path);
    noteOutcome(request, answer.code);
    return reply.status(answer.status).send(answer.body());
  });

  // Public LBank endpoints (and unknown paths under them) spend the client IP's budget; signed ones
  // spend their key's, counted with the claim of the echostr.
  server.addHook('onRequest', async (request) => {
    if (!/^\/(v2|cfd)\//.test(request.url) || (request.routeOptions.config as { signed?: boolean } | undefined)?.signed) return;
    const charge = ipCharge(app.config.rateLimits, canonicalIp(request.ip) ?? request.ip);
    // Public data is served even while Redis is away: this limit protects the fleet, not an account.
    let allowed = true;
    try {
      if (charge) allowed = await app.hitPublicLimit(charge);
    } catch (error) {
      if (!(error instanceof SharedStateUnavailableError)) throw error;
    }
    if (!allowed) throw new LbankError(10004, 'this address has used its budget of requests for the last 10 seconds');
  });

  registerMetrics(server, app);
  registerHealthRoutes(server, app);
  registerWebSocket(server, app);
  registerPortal(server, app);
  registerPublicRoutes(server, app);
  registerMarketRoutes(server, app);
  registerSignedEndpoints(server, app, [...accountEndpoints(app), ...tradeEndpoints(app), ...orderQueryEndpoints(app), ...walletEndpoints(app), ...subscribeEndpoints(app)]);
  void server.register(registerWeb);
  return server;
}
