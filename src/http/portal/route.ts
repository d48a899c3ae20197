// How a portal endpoint is declared: method, path, who may call it, the schemas of its input and of
// its response, and its handler, together. The response is parsed with its schema before it is sent,
// so a field the schema does not declare (a hash, a secret) can never reach a client by accident.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App } from '../../app.js';
import { checkCsrfToken } from '../../domain/sessions.js';
import { canonicalIp } from '../../domain/keys.js';
import type { StartedSession } from '../../services/sessions.js';
import type { UserRecord } from '../../storage/users.js';
import { PortalError, type PortalErrorCode } from './errors.js';

export const SESSION_COOKIE = 'keygate_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface PortalSession {
  id: string;
  user: UserRecord;
  csrfToken: string;
}

type Schema = z.ZodType;
type Input<S> = S extends Schema ? z.output<S> : undefined;

export interface RouteContext<B, P, Q, Authenticated extends boolean> {
  body: B;
  params: P;
  query: Q;
  /** The client's address (behind a trusted proxy, the one it forwarded). */
  ip: string;
  session: Authenticated extends true ? PortalSession : undefined;
  /** Ends the session the browser brought, if any, and sets the new session's cookie (login, sign-up). */
  startSession: (session: StartedSession) => Promise<void>;
  /** Removes the session cookie (logout, password change). */
  clearSession: () => void;
}

export interface RouteSpec<BS extends Schema | undefined, PS extends Schema | undefined, QS extends Schema | undefined, RS extends Schema, Authenticated extends boolean> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** What the endpoint does, in a line (the OpenAPI summary). */
  summary: string;
  /** true: a live session is required, and for any method but GET the X-CSRF-Token header too. */
  session: Authenticated;
  body?: BS;
  params?: PS;
  query?: QS;
  /** The status of a successful answer (200 unless said). */
  status?: number;
  response: RS;
  /**
   * The catalogue's codes the handler itself may answer with. Those of the checks made here (session,
   * CSRF, input, media type) are known from the rest of the declaration and are not listed.
   */
  errors?: readonly PortalErrorCode[];
  /** What a successful call does to the session cookie: `set` (login, sign-up) or `clear`. */
  sessionCookie?: 'set' | 'clear';
  handler(context: RouteContext<Input<BS>, Input<PS>, Input<QS>, Authenticated>): Promise<z.input<RS>>;
}

/** A declaration without its handler: what the OpenAPI description is built from. */
export type RouteDescription = Omit<RouteSpec<Schema | undefined, Schema | undefined, Schema | undefined, Schema, boolean>, 'handler'>;

export interface PortalRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  description: RouteDescription;
  handle(app: App, request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

function firstIssue(error: z.ZodError, where: string): PortalError {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path || undefined;
  const message = issue ? (path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message) : `Invalid ${where}`;
  return new PortalError('invalid_request', message, field);
}

/** No request of the portal nests deeper; deeper input is refused before anything walks it. */
export const MAX_INPUT_DEPTH = 16;

/**
 * Finds what no schema could take: a string (or key) holding a NUL character, which no database stores
 * in text, or nesting deeper than MAX_INPUT_DEPTH. Iterative, so that no input can exhaust the stack.
 */
function unstorableInput(value: unknown): { path: string[]; problem: 'nul' | 'depth' } | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return { path, problem: 'nul' };
    } else if (current && typeof current === 'object') {
      if (path.length >= MAX_INPUT_DEPTH) return { path, problem: 'depth' };
      for (const [key, inner] of Object.entries(current)) {
        if (key.includes('\u0000')) return { path: [...path, key], problem: 'nul' };
        stack.push({ value: inner, path: [...path, key] });
      }
    }
  }
  return undefined;
}

function parse<S extends Schema | undefined>(schema: S, value: unknown, where: string): Input<S> {
  if (!schema) return undefined as Input<S>;
  const unstorable = unstorableInput(value);
  if (unstorable?.problem === 'nul') {
    const path = unstorable.path.join('.');
    throw new PortalError('invalid_request', `${path || where} must not contain a NUL character`, path || undefined);
  }
  if (unstorable) throw new PortalError('invalid_request', `${unstorable.path[0] ?? where} nests deeper than ${MAX_INPUT_DEPTH} levels`, unstorable.path[0]);
  const result = schema.safeParse(value ?? (where === 'body' ? {} : value));
  if (!result.success) throw firstIssue(result.error, where);
  return result.data as Input<S>;
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;|$)/i.test(type);
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

export function defineRoute<
  BS extends Schema | undefined = undefined,
  PS extends Schema | undefined = undefined,
  QS extends Schema | undefined = undefined,
  RS extends Schema = Schema,
  Authenticated extends boolean = boolean,
>(spec: RouteSpec<BS, PS, QS, RS, Authenticated>): PortalRoute {
  const description: RouteDescription & { handler?: unknown } = { ...spec };
  delete description.handler;
  return {
    method: spec.method,
    url: spec.url,
    description,
    async handle(app, request, reply) {
      // JSON only: a cross-site form cannot send it without the browser asking first (CORS), which
      // also keeps login and sign-up out of reach of cross-site forms.
      if (spec.body && hasBody(request) && !isJson(request)) {
        throw new PortalError('unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).');
      }
      const ip = canonicalIp(request.ip) ?? request.ip;
      const cookie = request.cookies[SESSION_COOKIE];
      let session: PortalSession | undefined;
      if (spec.session) {
        const active = await app.sessions.authenticate(cookie);
        const user = active && (await app.accounts.findById(active.userId));
        if (!active || !user) {
          if (cookie !== undefined) reply.clearCookie(SESSION_COOKIE, { path: '/' });
          throw new PortalError('unauthenticated', 'Log in to continue: there is no session, or it has expired.');
        }
        if (spec.method !== 'GET') {
          const header = request.headers[CSRF_HEADER];
          if (!checkCsrfToken(cookie!, typeof header === 'string' ? header : undefined)) {
            throw new PortalError('csrf_token_invalid', 'The X-CSRF-Token header is missing or does not match this session. Send the csrfToken that login or /me returned.');
          }
        }
        session = { id: active.id, user, csrfToken: active.csrfToken };
      }
      const context = {
        params: parse(spec.params, request.params, 'params'),
        query: parse(spec.query, request.query, 'query'),
        body: parse(spec.body, request.body, 'body'),
        ip,
        session,
        startSession: async (started: StartedSession) => {
          // Rotation: whatever session came with the request ends; the browser gets only the new one.
          const previous = await app.sessions.authenticate(cookie);
          if (previous) await app.sessions.end(previous.id);
          reply.setCookie(SESSION_COOKIE, started.token, {
            path: '/',
            httpOnly: true,
            sameSite: 'lax',
            secure: request.protocol === 'https',
            maxAge: Math.max(1, Math.floor((started.expiresAt - app.now()) / 1000)),
          });
        },
        clearSession: () => {
          reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
        },
      } as RouteContext<Input<BS>, Input<PS>, Input<QS>, Authenticated>;
      const result = await spec.handler(context);
      const checked = spec.response.safeParse(result);
      if (!checked.success) {
        // Only paths and issue codes: the values may be exactly what must not leak.
        const issues = checked.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
        throw new Error(`The response of ${spec.method} ${spec.url} does not match its schema (${issues.join('; ')})`);
      }
      reply.header('cache-control', 'no-store');
      return reply.status(spec.status ?? 200).send(checked.data);
    },
  };
}
