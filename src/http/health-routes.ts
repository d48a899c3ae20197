// Probes for a load balancer: /healthz says the process is alive; /readyz says this server can take
// traffic now (migrations ran at start; the database and, when configured, Redis answer; not draining).
import type { FastifyInstance } from 'fastify';
import type { App } from '../app.js';

export function registerHealthRoutes(server: FastifyInstance, app: App): void {
  server.get('/healthz', async () => ({ status: 'alive' }));

  server.get('/readyz', async (_request, reply) => {
    const [database, redis] = await Promise.all([app.database.ping(), app.shared ? app.shared.ping() : Promise.resolve(undefined)]);
    const checks = { database, ...(redis === undefined ? {} : { redis }), draining: app.draining };
    const ready = database && redis !== false && !app.draining;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
}
