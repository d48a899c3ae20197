// The portal API's OpenAPI description, served at /api/v1/openapi.json: valid OpenAPI 3.1, complete
// (every route the server registers under /api/v1 is in it), and true (what real calls answer, errors
// included, matches what it documents), over real HTTP on SQLite and PostgreSQL.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/domain/totp.js';
import { DATABASE_KINDS } from './support/databases.js';
import { PortalClient, type CreatedKey, type PortalResponse } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';

const PASSWORD = 'a long and unusual passphrase';
const NEW_PASSWORD = 'another long and unusual passphrase';

type Json = Record<string, unknown>;

/** A six-digit code that is none of the codes an authenticator with this seed accepts now. */
function wrongTotp(seed: string, now: number): string {
  const near = new Set([-1, 0, 1].map((step) => totpCode(seed, now + step * 30_000)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

interface Operation {
  parameters?: { name: string; in: string; required: boolean; schema: Json }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Json }> }>;
  security: Record<string, string[]>[];
}

interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

interface Call {
  method: string;
  path: string;
  body: unknown;
  response: PortalResponse<unknown>;
}

/** A portal client that records every call it makes, to check each against the description. */
class RecordingClient extends PortalClient {
  constructor(
    baseUrl: string,
    readonly calls: Call[],
  ) {
    super(baseUrl);
  }

  override async request<T>(method: string, path: string, body?: unknown, options?: Parameters<PortalClient['request']>[3]): Promise<PortalResponse<T>> {
    const response = await super.request<T>(method, path, body, options);
    this.calls.push({ method, path, body: options?.rawBody ?? body, response });
    return response;
  }
}

/** JSON pointer of a place in the document, as a URI fragment. */
function pointer(...tokens: string[]): string {
  return tokens.map((token) => encodeURIComponent(token.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

/** Every JSON Schema the document holds: components, parameters, request and response bodies. */
function schemasIn(doc: Document): { where: string; schema: Json }[] {
  const found = Object.entries(doc.components.schemas).map(([name, schema]) => ({ where: `components/${name}`, schema }));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const p of op.parameters ?? []) found.push({ where: `${method} ${path} ${p.name}`, schema: p.schema });
      for (const media of Object.values(op.requestBody?.content ?? {})) found.push({ where: `${method} ${path} body`, schema: media.schema });
      for (const [status, answer] of Object.entries(op.responses)) {
        for (const media of Object.values(answer.content ?? {})) found.push({ where: `${method} ${path} ${status}`, schema: media.schema });
      }
    }
  }
  return found;
}

describe.each(DATABASE_KINDS)('portal OpenAPI description (%s)', (kind) => {
  let harness: PortalHarness;
  /** Every route Fastify registered, as it registered them. */
  const registered: { method: string; url: string }[] = [];
  let doc: Document;
  let base: string;

  beforeAll(async () => {
    harness = await startPortal(kind, {
      beforeListen: (server) => {
        server.addHook('onRoute', (route) => {
          for (const method of ([] as string[]).concat(route.method)) registered.push({ method, url: route.url });
        });
      },
    });
    const response = await fetch(new URL('/api/v1/openapi.json', harness.kg.baseUrl));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await response.json()) as Document;
    base = doc.servers[0]!.url;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('is an OpenAPI 3.1 document that the OpenAPI 3.1 schema accepts, each of its schemas valid JSON Schema 2020-12', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(base).toBe('/api/v1');

    // The OpenAPI schema does not look inside schema objects: the JSON Schema meta-schema does.
    const ajv = new Ajv2020({ strict: false });
    const schemas = schemasIn(doc);
    expect(schemas.length).toBeGreaterThan(40);
    for (const { where, schema } of schemas) {
      expect(ajv.validateSchema(schema), `${where}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
    }

    // The session cookie and the CSRF header, as security schemes, required where the routes need them.
    expect(doc.components.securitySchemes).toEqual({
      session: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'keygate_session' }),
      csrfToken: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' }),
    });
    expect(doc.paths['/me']!.get!.security).toEqual([{ session: [] }]);
    expect(doc.paths['/api-keys']!.post!.security).toEqual([{ session: [], csrfToken: [] }]);
    expect(doc.paths['/auth/login']!.post!.security).toEqual([]);
  });

  it('describes every route the server registers under /api/v1, and no other', () => {
    const served = new Set(
      registered
        .filter((route) => route.url.startsWith(`${base}/`))
        // Fastify answers HEAD for each GET by itself.
        .filter((route) => route.method !== 'HEAD' || !registered.some((other) => other.url === route.url && other.method === 'GET'))
        .map((route) => `${route.method} ${route.url.slice(base.length).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    const described = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)));
    expect(served.size).toBeGreaterThan(15);
    expect([...described].sort()).toEqual([...served].sort());
  });

  it('answers one real call of each endpoint, and a range of refusals, exactly as it documents them', async () => {
    const { portal, clock } = harness;
    const calls: Call[] = [];
    const client = new RecordingClient(harness.kg.baseUrl, calls);
    const stranger = new RecordingClient(harness.kg.baseUrl, calls);
    const email = `openapi-${kind}@example.test`;

    await client.get('/api/v1/openapi.json');
    // Refusals before there is a session.
    await stranger.get('/api/v1/me');
    await stranger.post('/api/v1/auth/login', { email: 5, password: PASSWORD });
    await stranger.request('POST', '/api/v1/auth/login', undefined, { rawBody: 'email=a', headers: { 'content-type': 'text/plain' } });
    await stranger.post('/api/v1/auth/login', { email, password: PASSWORD });

    // Sign up and bind the authenticator.
    const signUpCode = await portal.emailCode(client, email, 'signup');
    await client.post('/api/v1/auth/email-code', { email, purpose: 'signup' }); // within the cooldown: 429
    await client.post('/api/v1/auth/signup', { email, password: PASSWORD, emailCode: '000000' });
    await client.post('/api/v1/auth/signup', { email, password: PASSWORD, emailCode: signUpCode });
    await client.get('/api/v1/me');
    await client.post('/api/v1/auth/logout', undefined, { csrf: false });
    await client.post('/api/v1/api-keys', { name: 'early', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'], emailCode: '123456', totp: '123456' });
    const seed = await portal.bindTotp(client);

    // Every key endpoint.
    portal.afterCooldown();
    const createCode = await portal.emailCode(client, email, 'create_api_key');
    const created = await client.post<CreatedKey>('/api/v1/api-keys', {
      name: 'bot',
      method: 'HmacSHA256',
      ips: '127.0.0.1',
      authority: ['read', 'trade'],
      emailCode: createCode,
      totp: portal.nextTotp(seed),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const apiKey = created.body.apiKey;
    await client.get('/api/v1/api-keys');
    portal.afterCooldown();
    const editCode = await portal.emailCode(client, email, 'edit_api_key');
    await client.patch(`/api/v1/api-keys/${apiKey}`, { name: 'bot 2', ips: 'not an ip', emailCode: editCode, totp: portal.nextTotp(seed) });
    await client.patch(`/api/v1/api-keys/${apiKey}`, { name: 'bot 2', emailCode: editCode, totp: portal.nextTotp(seed) });
    await client.post(`/api/v1/api-keys/${apiKey}/disable`);
    await client.post(`/api/v1/api-keys/${apiKey}/enable`);
    portal.afterCooldown();
    const enableCode = await portal.emailCode(client, email, 'enable_api_key');
    await client.post(`/api/v1/api-keys/${apiKey}/enable`, { emailCode: enableCode, totp: portal.nextTotp(seed) });
    await client.post('/api/v1/api-keys/nosuchkey/enable', { emailCode: '123456', totp: '123456' });
    await client.get('/api/v1/audit-log?limit=3');
    await client.get('/api/v1/audit-log?limit=0');
    await client.delete(`/api/v1/api-keys/${apiKey}`);
    await client.delete('/api/v1/api-keys');

    // Unbind, change the password, log in again and out.
    portal.afterCooldown();
    const unbindCode = await portal.emailCode(client, email, 'unbind_totp');
    await client.post('/api/v1/security/totp/unbind', { emailCode: unbindCode, totp: wrongTotp(seed, clock.now()) });
    await client.post('/api/v1/security/totp/unbind', { emailCode: unbindCode, totp: portal.nextTotp(seed) });
    await client.post('/api/v1/security/password', { currentPassword: 'not the password', newPassword: NEW_PASSWORD });
    await client.post('/api/v1/security/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await client.post('/api/v1/auth/login', { email, password: NEW_PASSWORD });
    await client.post('/api/v1/auth/logout');

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema(doc, 'openapi.json');
    const templates = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      params: (template.match(/\{/g) ?? []).length,
    }));
    const answered = new Set<string>();
    const statuses = new Set<number>();
    for (const call of calls) {
      const [pathname, search = ''] = call.path.slice(base.length).split('?');
      // The most literal template that fits: /api-keys before /{anything}.
      const template = templates.filter((t) => t.pattern.test(pathname!)).sort((a, b) => a.params - b.params)[0]?.template;
      const what = `${call.method} ${call.path} → ${call.response.status} ${JSON.stringify(call.response.body)?.slice(0, 300)}`;
      expect(template, what).toBeDefined();
      const method = call.method.toLowerCase();
      const op = doc.paths[template!]![method]!;
      expect(op, what).toBeDefined();
      const status = String(call.response.status);
      const documented = op.responses[status];
      expect(documented, `${what}: status not documented`).toBeDefined();
      expect(call.response.headers.get('content-type'), what).toMatch(/^application\/json/);
      const validate = ajv.compile({ $ref: `openapi.json#/${pointer('paths', template!, method, 'responses', status, 'content', 'application/json', 'schema')}` });
      expect(validate(call.response.body), `${what}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      statuses.add(call.response.status);

      const setsCookie = call.response.headers.getSetCookie().some((line) => line.startsWith('keygate_session='));
      if (call.response.status < 300) {
        answered.add(`${method} ${template}`);
        // What was sent in a successful call fits what is documented as input.
        if (op.requestBody && call.body !== undefined) {
          const input = ajv.compile({ $ref: `openapi.json#/${pointer('paths', template!, method, 'requestBody', 'content', 'application/json', 'schema')}` });
          expect(input(call.body), `${what}: request ${ajv.errorsText(input.errors)}`).toBe(true);
        }
        for (const [name, value] of new URLSearchParams(search)) {
          expect(op.parameters?.some((p) => p.in === 'query' && p.name === name), `${what}: query ${name}`).toBe(true);
          void value;
        }
        // The session cookie changes exactly where the description says so.
        expect(setsCookie, `${what}: Set-Cookie`).toBe(documented!.headers?.['Set-Cookie'] !== undefined);
      }
    }
    // Each endpoint answered at least once with success, and refusals of each kind were seen.
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect([...answered].sort()).toEqual(operations.sort());
    expect([...statuses].sort()).toEqual([200, 201, 400, 401, 403, 404, 415, 429]);
  });
});
