// Serves the portal (the React app that `vite build` writes to web/dist) at `/`. Its files are served
// as they are; any other GET of a page (Accept: text/html) outside /v2, /cfd and /api gets index.html,
// so that /my-api or /my-api/create load the app, which then routes in the browser.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Paths the portal never answers: the signed API, its futures twin, and the portal's JSON API. */
const NOT_PORTAL = /^\/(v2|cfd|api)(\/|$)/;

/**
 * What the app needs and no more: its own scripts, styles and API; images from itself or data: URIs
 * (the authenticator's QR code); never framed (the key pages hold secrets once).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The package's root directory (found from src/http or dist/src/http), if it is there. */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'web'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

/** The directory that holds the built portal: web/dist at the package root. */
export function webDistDir(): string {
  return join(packageRoot() ?? process.cwd(), 'web', 'dist');
}

function pageHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cache-control', 'no-cache');
}

function wantsPage(accept: string | undefined): boolean {
  return typeof accept === 'string' && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/** A Fastify plugin: `server.register(registerWeb)`. */
export async function registerWeb(server: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? webDistDir();
  const built = existsSync(join(root, 'index.html'));
  if (built) {
    await server.register(fastifyStatic, {
      root,
      prefix: '/',
      // One route per built file, registered at start: nothing outside web/dist can be asked for.
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders(reply, path) {
        reply.header('x-content-type-options', 'nosniff');
        // Vite names bundles after their content: they never change under the same name.
        reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
        if (path.endsWith('.html')) pageHeaders(reply);
      },
    });
  } else {
    server.log.warn({ root }, 'the portal is not built (run `npm run build`): only the APIs are served');
  }

  server.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (NOT_PORTAL.test(path) || !wantsPage(request.headers.accept)) return reply.callNotFound();
    if (!built) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The Keygate portal has not been built. Run `npm run build` (or `npm start`), then reload.\n');
    }
    pageHeaders(reply);
    return reply.sendFile('index.html');
  });
}
