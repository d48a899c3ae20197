// How the server serves the portal (web/dist, built by `npm run build`): its files, index.html for any
// page the browser asks for, and never for the APIs.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWeb, webDistDir } from '../src/http/web.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('serving the portal', () => {
  let kg: RunningKeygate;

  beforeAll(async () => {
    kg = await startKeygate('sqlite');
  });

  afterAll(async () => {
    await kg?.stop();
  });

  const get = (path: string, accept?: string) => fetch(new URL(path, kg.baseUrl), { headers: accept ? { accept } : {} });

  it('answers every page of the app with index.html, with a strict content security policy', async () => {
    const index = readFileSync(join(webDistDir(), 'index.html'), 'utf8');
    for (const path of ['/', '/login', '/my-api', '/my-api/create', '/my-api/edit/a65a79c3-fdc2-4aec-ae36-f8aad1129317', '/no/such/page?x=1']) {
      const response = await get(path, HTML);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toBe(index);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('bundles everything: the page loads nothing from another site', async () => {
    const index = await (await get('/', HTML)).text();
    expect(index).not.toMatch(/(src|href)="(https?:)?\/\//);
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const response = await get(asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await response.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org|reactjs\.org|react\.dev)[a-z0-9.-]+\.[a-z]{2,}\//i);
    }
    expect((await get('/favicon.svg')).status).toBe(200);
  });

  it('leaves the APIs alone: their own not-found answers, whatever the browser accepts', async () => {
    const v2 = await get('/v2/no_such_endpoint.do', HTML);
    expect(v2.status).toBe(404);
    expect(await v2.json()).toMatchObject({ result: 'false', error_code: 404 });

    const cfd = await get('/cfd/openApi/v1/pub/nothing', HTML);
    expect(cfd.status).toBe(404);
    expect(await cfd.json()).toMatchObject({ result: 'false', error_code: 404 });

    const portal = await get('/api/v1/no-such-thing', HTML);
    expect(portal.status).toBe(404);
    expect(await portal.json()).toMatchObject({ error: { code: 'not_found' } });

    const signed = await get('/v2/timestamp.do', HTML);
    expect(await signed.json()).toMatchObject({ result: 'true' });
  });

  it('answers with index.html only when a page is asked for', async () => {
    const json = await get('/my-api', 'application/json');
    expect(json.status).toBe(404);
    expect(await json.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await get('/my-api')).status).toBe(404);
    const post = await fetch(new URL('/my-api', kg.baseUrl), { method: 'POST', headers: { accept: HTML } });
    expect(post.status).toBe(404);
    // Nothing outside web/dist: the static routes are the built files.
    expect((await get('/../package.json')).status).toBe(404);
    expect((await get('/%2e%2e/package.json', 'application/json')).status).toBe(404);
  });

  it('says how to build the portal when web/dist is missing', async () => {
    const server = Fastify();
    await server.register(registerWeb, { root: join(webDistDir(), 'no-such-dir') });
    const page = await server.inject({ method: 'GET', url: '/my-api', headers: { accept: HTML } });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build');
    await server.close();
  });
});
