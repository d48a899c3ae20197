// The OpenAPI 3.1 description of the portal's JSON API, built from the declarations that register its
// routes (route.ts): paths, inputs, answers, error codes and security all come from them, so the
// description cannot fall behind the routes. Schemas are zod's own JSON Schema output (draft 2020-12,
// the dialect of OpenAPI 3.1); a schema named with `.meta({ id })` becomes a component.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../web.js';
import { errorBody, PORTAL_ERRORS, PORTAL_ERROR_CODES, type PortalErrorCode } from './errors.js';
import { CSRF_HEADER, defineRoute, SESSION_COOKIE, type PortalRoute, type RouteDescription } from './route.js';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

export const OPENAPI_VERSION = '3.1.0';
const COMPONENT_REF = '#/components/schemas/';

/** Turns zod schemas into JSON Schema, gathering every named schema into one set of components. */
class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: Io): JsonSchema {
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchema;
    // The dialect is OpenAPI 3.1's own; named schemas move to the components.
    const { $defs: defs, ...rest } = converted;
    delete rest.$schema;
    for (const [name, definition] of Object.entries((defs ?? {}) as Record<string, JsonSchema>)) {
      const component = pointRefsAtComponents(definition) as JsonSchema;
      const known = this.schemas[name];
      // One name, one shape: a schema named for answers and also taken as input would differ.
      if (known && JSON.stringify(known) !== JSON.stringify(component)) throw new Error(`Two different schemas are named ${name}`);
      this.schemas[name] = component;
    }
    return pointRefsAtComponents(rest) as JsonSchema;
  }
}

function pointRefsAtComponents(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pointRefsAtComponents);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, COMPONENT_REF) : pointRefsAtComponents(inner);
  }
  return out;
}

/** Fastify's `/api-keys/:apiKey` as OpenAPI's `/api-keys/{apiKey}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationId(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The codes an endpoint can answer with: those of the checks route.ts makes, then the handler's own. */
export function routeErrorCodes(route: RouteDescription): PortalErrorCode[] {
  const codes = new Set<PortalErrorCode>();
  // Any request with a body can be malformed JSON or too large, whether or not the endpoint reads one.
  if (route.method !== 'GET') codes.add('invalid_request').add('payload_too_large');
  if (route.body) codes.add('invalid_request').add('unsupported_media_type');
  if (route.params || route.query) codes.add('invalid_request');
  if (route.session) codes.add('unauthenticated');
  if (route.session && route.method !== 'GET') codes.add('csrf_token_invalid');
  for (const code of route.errors ?? []) codes.add(code);
  codes.add('internal_error');
  return PORTAL_ERROR_CODES.filter((code) => codes.has(code));
}

function parameters(components: SchemaComponents, schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = components.convert(schema, 'input');
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries((object.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

const RETRY_AFTER = { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } };

function errorResponses(route: RouteDescription): Record<string, JsonSchema> {
  const byStatus = new Map<number, PortalErrorCode[]>();
  for (const code of routeErrorCodes(route)) {
    const status = PORTAL_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(', '),
      ...(status === 429 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: {
        'application/json': {
          schema: {
            allOf: [{ $ref: `${COMPONENT_REF}Error` }, { properties: { error: { properties: { code: { enum: codes } } } } }],
          },
        },
      },
    };
  }
  return responses;
}

function sessionCookieHeader(effect: 'set' | 'clear'): JsonSchema {
  return {
    'Set-Cookie': {
      description:
        effect === 'set'
          ? `The new session: \`${SESSION_COOKIE}=…; Path=/; HttpOnly; SameSite=Lax\` (Secure behind HTTPS). Any session the request brought has ended.`
          : `Removes the \`${SESSION_COOKIE}\` cookie.`,
      schema: { type: 'string' },
    },
  };
}

function operation(components: SchemaComponents, route: RouteDescription): JsonSchema {
  const firstSegment = route.url.split('/')[1] ?? '';
  const status = route.status ?? 200;
  const body = route.body && components.convert(route.body, 'input');
  const params = [...parameters(components, route.params, 'path'), ...parameters(components, route.query, 'query')];
  return {
    operationId: operationId(route.method, route.url),
    summary: route.summary,
    tags: [firstSegment],
    // The cookie always; the CSRF header too on anything but a read. [] means no session is needed.
    security: route.session ? [{ session: [], ...(route.method === 'GET' ? {} : { csrfToken: [] }) }] : [],
    ...(params.length ? { parameters: params } : {}),
    ...(body
      ? {
          requestBody: {
            required: ((body.required as unknown[] | undefined) ?? []).length > 0,
            content: { 'application/json': { schema: body } },
          },
        }
      : {}),
    responses: {
      [String(status)]: {
        description: status === 201 ? 'Created' : 'OK',
        ...(route.sessionCookie ? { headers: sessionCookieHeader(route.sessionCookie) } : {}),
        content: { 'application/json': { schema: components.convert(route.response, 'output') } },
      },
      ...errorResponses(route),
    },
  };
}

const DESCRIPTION = `The JSON API the portal's pages use, for putting another front end on Keygate.

Bodies are JSON (\`Content-Type: application/json\`). Every error is answered with one body,
\`{"error":{"code":"…","message":"…","field":"…"}}\` (\`field\` when the error is about one), with the
status of its code; 429 answers carry \`Retry-After\`. A path nothing serves answers 404 \`not_found\`.

Sessions live on the server, named by the \`${SESSION_COOKIE}\` cookie that sign-up and login set. Login and
\`GET /me\` return a \`csrfToken\`: every call but a read sends it in the \`X-CSRF-Token\` header.

Error codes and their statuses:

${PORTAL_ERROR_CODES.map((code) => `- \`${code}\`: ${PORTAL_ERRORS[code]}`).join('\n')}`;

/** The OpenAPI document of the given routes, served under `basePath`. */
export function openApiDocument(routes: readonly PortalRoute[], options: { basePath: string; version: string }): JsonSchema {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = (paths[openApiPath(route.url)] ??= {});
    const method = route.method.toLowerCase();
    if (item[method]) throw new Error(`Two routes are declared for ${route.method} ${route.url}`);
    item[method] = operation(components, route.description);
  }
  const error = components.convert(errorBody(), 'output');
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'Keygate portal API', version: options.version, description: DESCRIPTION },
    servers: [{ url: options.basePath }],
    paths,
    components: {
      schemas: { ...components.schemas, Error: error },
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'The session cookie that sign-up and login set (HttpOnly, SameSite=Lax). It ends after idle time, at its absolute expiry, at logout and at a password change.',
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: `The csrfToken that login, sign-up and GET /me return, sent (as ${CSRF_HEADER}) on every state-changing call of the session.`,
        },
      },
    },
  };
}

const openApiResponse = z
  .looseObject({
    openapi: z.literal(OPENAPI_VERSION),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'An OpenAPI 3.1 document.' });

function packageVersion(): string {
  const root = packageRoot();
  const manifest = root ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }) : {};
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}

/**
 * GET /openapi.json: the description of `routes()`, this endpoint among them, built on the first request
 * and kept (the routes do not change while the server runs).
 */
export function openApiRoute(routes: () => readonly PortalRoute[], basePath: string): PortalRoute {
  let document: JsonSchema | undefined;
  return defineRoute({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This description of the portal API (OpenAPI 3.1), to generate a client from',
    session: false,
    response: openApiResponse,
    async handler() {
      document ??= openApiDocument(routes(), { basePath, version: packageVersion() });
      return document as z.input<typeof openApiResponse>;
    },
  });
}
