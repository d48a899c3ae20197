// GET /metrics (Prometheus text format) and the counting of every answered request. Where it is
// served is configuration (KEYGATE_METRICS, KEYGATE_METRICS_PORT); off, the path is not found.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { App } from '../app.js';
import type { Surface } from '../metrics.js';

/** The route label of every request no route took (and of pages nothing serves): one series, whatever the flood. */
export const UNMATCHED = 'unmatched';
/** The portal's page fallback (`GET /*` in web.ts), which answers 404 for what is not a page. */
const PAGE_FALLBACK = '/*';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Outcome codes noted by the error handlers: LBank's error_code on /v2, the error code on the portal. */
const outcomes = new WeakMap<FastifyRequest, string>();

export function noteOutcome(request: FastifyRequest, code: string | number): void {
  outcomes.set(request, String(code));
}

function surfaceOf(path: string): Surface {
  if (/^\/(v2|cfd)(\/|$)/.test(path)) return 'v2';
  if (/^\/api(\/|$)/.test(path)) return 'portal';
  if (/^\/(healthz|readyz|metrics)$/.test(path)) return 'ops';
  return 'web';
}

/** Counts one answer of a route (its template), or of no route (UNMATCHED). */
function observe(app: App, request: FastifyRequest, reply: FastifyReply, route: string, surface: Surface): void {
  const status = reply.statusCode;
  // The page fallback's 404 is a path nothing serves: counted with every other unmatched request.
  if (route === PAGE_FALLBACK && status === 404) {
    route = UNMATCHED;
    surface = surfaceOf(request.url.split('?')[0] ?? '');
  }
  const method = METHODS.has(request.method) ? request.method : 'other';
  const code = outcomes.get(request) ?? (status >= 400 ? String(status) : surface === 'v2' ? '0' : 'ok');
  app.metrics.observeRequest(surface, method, route, status, code, reply.elapsedTime / 1000);
}

const unmatchedCounted = new WeakSet<FastifyRequest>();

/**
 * Counts, once, the answer of a request that no route took, when metrics are on: called by the
 * not-found handler and by the error handler (a hook or the body parser may refuse such a request
 * before the not-found handler runs).
 */
export function countUnmatched(app: App, request: FastifyRequest, reply: FastifyReply): void {
  if (app.config.metrics.serve === 'off' || !request.is404 || unmatchedCounted.has(request)) return;
  unmatchedCounted.add(request);
  const surface = surfaceOf(request.url.split('?')[0] ?? '');
  let counted = false;
  const count = () => {
    if (counted) return;
    counted = true;
    observe(app, request, reply, UNMATCHED, surface);
  };
  // An answer that could not be written completely is counted too, as Fastify's onResponse would.
  reply.raw.once('finish', count);
  reply.raw.once('close', count);
}

/** Counts every answer and, if so configured, serves GET /metrics on this server's port. */
export function registerMetrics(server: FastifyInstance, app: App): void {
  const access = app.config.metrics;
  if (access.serve === 'off') return;
  const { metrics } = app;
  // Each route counts its own answers, with its template and surface worked out once, when it is
  // added: nothing is looked up per request (request.routeOptions builds an object at every call).
  server.addHook('onRoute', (options) => {
    const route = options.url;
    const surface = route === PAGE_FALLBACK ? 'web' : surfaceOf(route);
    const count: onResponseHookHandler = (request, reply, done) => {
      observe(app, request, reply, route, surface);
      done();
    };
    const own = options.onResponse;
    options.onResponse = own === undefined ? [count] : [...(Array.isArray(own) ? own : [own]), count];
  });

  if (access.serve === 'main') {
    server.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
    return;
  }

  // A listener of its own, on the loopback interface only, started and stopped with the main one.
  let listener: Server | undefined;
  server.addHook('onReady', async () => {
    const started = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: only GET /metrics is served here\n');
        return;
      }
      metrics.scrape().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : body),
        (error: unknown) => {
          app.logger.error({ err: error }, 'metrics scrape failed');
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be collected\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      started.once('error', reject);
      started.listen({ host: '127.0.0.1', port: access.port }, () => {
        started.off('error', reject);
        resolve();
      });
    });
    listener = started;
    const { port } = started.address() as AddressInfo;
    metrics.endpoint = `http://127.0.0.1:${port}/metrics`;
    app.logger.info({ endpoint: metrics.endpoint }, 'Metrics served on a port of their own');
  });
  server.addHook('onClose', async () => {
    const closing = listener;
    listener = undefined;
    if (!closing) return;
    closing.closeAllConnections();
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  });
}
