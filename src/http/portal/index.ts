// The portal's JSON API under /api/v1: every endpoint family registered from this one place, with
// the portal's error shape for everything that goes wrong under it.
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { auditRoutes } from './audit-routes.js';
import { authRoutes } from './auth-routes.js';
import { internalError, PortalError, toPortalError } from './errors.js';
import { openApiRoute } from './openapi.js';
import type { PortalRoute } from './route.js';
import { securityRoutes } from './security-routes.js';
import { noteOutcome } from '../metrics.js';

export const PORTAL_PREFIX = '/api/v1';

export function portalRoutes(app: App): PortalRoute[] {
  const routes = [...authRoutes(app), ...securityRoutes(app), ...apiKeyRoutes(app), ...auditRoutes(app)];
  // The description is built from this very list, so whatever is registered is described.
  routes.push(openApiRoute(() => routes, PORTAL_PREFIX));
  return routes;
}

export function registerPortal(server: FastifyInstance, app: App): void {
  void server.register(
    async (portal) => {
      await portal.register(cookie);
      // JSON as Fastify parses it (prototype poisoning refused), except that an empty body is no body:
      // browsers' fetch wrappers often send the JSON content type on a bodyless DELETE.
      const json = portal.getDefaultJsonParser('error', 'error');
      portal.removeContentTypeParser('application/json');
      portal.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        if (body === '') {
          done(null, undefined);
          return;
        }
        void json(request, body as string, done);
      });
      portal.setErrorHandler((error, request, reply) => {
        let answer = toPortalError(error);
        if (!answer) {
          request.log.error({ err: error, url: request.routeOptions.url }, 'portal request failed');
          answer = internalError();
        }
        noteOutcome(request, answer.code);
        if (answer.retryAfterMs !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(answer.retryAfterMs / 1000))));
        return reply.status(answer.status).send(answer.body());
      });
      for (const route of portalRoutes(app)) {
        portal.route({ method: route.method, url: route.url, handler: (request, reply) => route.handle(app, request, reply) });
      }
    },
    { prefix: PORTAL_PREFIX },
  );
}

/** The portal's answer for a path nothing serves. */
export function portalNotFound(method: string, path: string): PortalError {
  return new PortalError('not_found', `Not found: ${method} ${path.slice(0, 200)}`);
}
