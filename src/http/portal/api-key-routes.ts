// My API (screens 2, 3 and 5): /api/v1/api-keys.
import { z } from 'zod';
import type { App } from '../../app.js';
import { AUTHORITIES } from '../../domain/keys.js';
import { SIGNATURE_METHODS } from '../../domain/signing.js';
import type { ApiKeyView } from '../../services/api-keys.js';
import { KEY_SETTINGS_ERRORS, VERIFICATION_ERRORS } from './errors.js';
import { defineRoute, type PortalRoute } from './route.js';
import { code, text } from './schemas.js';

/** A row of the My API table. Never a secret. */
const apiKeyRow = z
  .object({
    name: z.string(),
    apiKey: z.string(),
    method: z.enum(SIGNATURE_METHODS),
    ips: z.string().meta({ description: 'The IP whitelist in the form it is typed: comma-separated, no spaces; empty for none.' }),
    authority: z.array(z.enum(AUTHORITIES)),
    validUntil: z.number().nullable().meta({ description: '"Remaining valid date" (epoch ms): when authority beyond Read lapses; null when permanent.' }),
    createdAt: z.number(),
    status: z.enum(['enabled', 'disabled']),
    lastUsedAt: z.number().nullable(),
    lastUsedIp: z.string().nullable(),
  })
  .meta({ id: 'ApiKey', description: 'A row of the My API table. Never a secret.' });

/** The "API information" of screen 5: the only response that carries a secret, once. */
const createdKey = apiKeyRow
  .extend({
    secretKey: z
      .string()
      .nullable()
      .meta({ description: 'Shown this once. HmacSHA256: 32 upper-case hex characters; RSA: the private key (base64 PKCS#8), or null for a key of your own.' }),
  })
  .meta({ id: 'CreatedApiKey', description: 'The API information: the only answer that carries the secret, once.' });

const deleted = z.object({ deleted: z.number().meta({ description: 'How many keys were deleted.' }) }).meta({ id: 'Deleted' });

function row(key: ApiKeyView): z.input<typeof apiKeyRow> {
  return {
    name: key.name,
    apiKey: key.apiKey,
    method: key.method,
    ips: key.ips.join(','),
    authority: key.authority,
    validUntil: key.authorityExpiresAt,
    createdAt: key.createdAt,
    status: key.status,
    lastUsedAt: key.lastUsedAt,
    lastUsedIp: key.lastUsedIp,
  };
}

const keyParams = z.object({ apiKey: z.string().min(1).max(100).meta({ description: 'The API key (its public id).' }) });
const authority = z.array(z.string().max(32), { error: `authority must be a list drawn from ${AUTHORITIES.join(', ')}` }).max(10);
const ips = z.string({ error: 'ips must be a string: IP addresses separated by commas, no spaces (empty for none)' }).max(2000, 'ips is too long');

export function apiKeyRoutes(app: App): PortalRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api-keys',
      summary: "The account's API keys (the My API table)",
      session: true,
      response: z.object({ keys: z.array(apiKeyRow) }),
      async handler({ session }) {
        return { keys: (await app.keyLifecycle.list(session.user.id)).map(row) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api-keys',
      summary: 'Create an API key, through the Security Verification (purpose create_api_key); the secret is in this answer only',
      session: true,
      status: 201,
      body: z.object({
        name: text('name', 200),
        method: z.string({ error: 'method is required: HmacSHA256 or RSA' }).max(32),
        ips,
        authority,
        publicKey: text('publicKey', 8192).optional(),
        emailCode: code('emailCode'),
        totp: code('totp'),
      }),
      response: createdKey,
      errors: [...KEY_SETTINGS_ERRORS, 'key_method_invalid', 'key_public_key_invalid', 'key_limit_reached', ...VERIFICATION_ERRORS],
      async handler({ body, session, ip }) {
        const { emailCode, totp, ...input } = body;
        const { key, secret } = await app.keyLifecycle.create(session.user, input, { emailCode, totp }, ip);
        return { ...row(key), secretKey: secret };
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api-keys/:apiKey',
      summary: "Edit a key's name, IP whitelist or authority, through the Security Verification (purpose edit_api_key)",
      session: true,
      params: keyParams,
      body: z.object({
        name: text('name', 200).optional(),
        ips: ips.optional(),
        authority: authority.optional(),
        emailCode: code('emailCode'),
        totp: code('totp'),
      }),
      response: apiKeyRow,
      errors: ['api_key_not_found', ...KEY_SETTINGS_ERRORS, ...VERIFICATION_ERRORS],
      async handler({ body, params, session, ip }) {
        const { emailCode, totp, ...changes } = body;
        return row(await app.keyLifecycle.update(session.user, params.apiKey, changes, { emailCode, totp }, ip));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api-keys/:apiKey/disable',
      summary: 'Disable a key: it authenticates nothing until enabled again (one click, like every revocation)',
      session: true,
      params: keyParams,
      response: apiKeyRow,
      errors: ['api_key_not_found'],
      async handler({ params, session, ip }) {
        return row(await app.keyLifecycle.disable(session.user, params.apiKey, ip));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api-keys/:apiKey/enable',
      summary: 'Enable a disabled key, through the Security Verification (purpose enable_api_key)',
      session: true,
      params: keyParams,
      body: z.object({ emailCode: code('emailCode'), totp: code('totp') }),
      response: apiKeyRow,
      errors: ['api_key_not_found', ...VERIFICATION_ERRORS],
      async handler({ body, params, session, ip }) {
        return row(await app.keyLifecycle.enable(session.user, params.apiKey, body, ip));
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api-keys/:apiKey',
      summary: 'Delete a key',
      session: true,
      params: keyParams,
      response: deleted,
      errors: ['api_key_not_found'],
      async handler({ params, session, ip }) {
        await app.keyLifecycle.delete(session.user, params.apiKey, ip);
        return { deleted: 1 };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api-keys',
      summary: 'Delete every key of the account at once (an emergency)',
      session: true,
      response: deleted,
      async handler({ session, ip }) {
        return { deleted: await app.keyLifecycle.deleteAll(session.user, ip) };
      },
    }),
  ];
}
