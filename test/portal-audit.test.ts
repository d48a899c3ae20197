// Beyond LBank: the account's audit log (signed-API rejections aggregated per key and minute), and
// the key warnings mailed by a background job that never sends the same warning twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { registerSignedEndpoints } from '../src/http/v2/signed.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { expectError, type AuditEvent, type AuditPage, type Portal, type PortalClient } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';

const DAY = 24 * 60 * 60 * 1000;
const MINUTE = 60_000;


async function auditLog(client: PortalClient, query = ''): Promise<AuditEvent[]> {
  const response = await client.get<AuditPage>(`/api/v1/audit-log${query}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.events;
}

describe.each(DATABASE_KINDS)('portal audit log (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;

  beforeAll(async () => {
    harness = await startPortal(kind, {
      // A signed endpoint that needs Trade, so that a read-only key can be refused for lacking it.
      beforeListen: (server, app) =>
        registerSignedEndpoints(server, app, [{ path: 'test/trade_probe', authority: 'trade', handler: async () => ({ traded: true }) }]),
    });
    portal = harness.portal;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('records logins, authenticator and key changes, each with time and IP', async () => {
    const address = 'audited@example.test';
    const client = await portal.signUp(address);
    const intruder = portal.client();
    expectError(await intruder.post('/api/v1/auth/login', { email: address, password: 'guessed password' }), 401, 'invalid_credentials');
    const seed = await portal.bindTotp(client);
    const key = await portal.createKey(client, address, seed, { name: 'audited key', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    portal.afterCooldown();
    const editCode = await portal.emailCode(client, address, 'edit_api_key');
    expect((await client.patch(`/api/v1/api-keys/${key.apiKey}`, { name: 'renamed key', emailCode: editCode, totp: portal.nextTotp(seed) })).status).toBe(200);
    await client.post(`/api/v1/api-keys/${key.apiKey}/disable`);
    portal.afterCooldown();
    const enableCode = await portal.emailCode(client, address, 'enable_api_key');
    expect((await client.post(`/api/v1/api-keys/${key.apiKey}/enable`, { emailCode: enableCode, totp: portal.nextTotp(seed) })).status).toBe(200);
    await client.delete(`/api/v1/api-keys/${key.apiKey}`);
    const other = portal.client();
    expect((await other.post('/api/v1/auth/login', { email: address, password: 'a long and unusual passphrase', totp: portal.nextTotp(seed) })).status).toBe(200);

    const events = await auditLog(other);
    expect(events.map((e) => e.type).reverse()).toEqual([
      'signup',
      'login_failed',
      'totp_bound',
      'api_key_created',
      'api_key_edited',
      'api_key_disabled',
      'api_key_enabled',
      'api_key_deleted',
      'login',
    ]);
    const byType = Object.fromEntries(events.map((e) => [e.type, e]));
    expect(byType.signup!.ip).toBe(client.ip);
    expect(byType.login_failed).toMatchObject({ ip: intruder.ip, detail: { reason: 'password' }, count: 1 });
    expect(byType.login!.ip).toBe(other.ip);
    expect(byType.api_key_created).toMatchObject({ apiKey: key.apiKey, ip: client.ip, detail: { name: 'audited key', method: 'HmacSHA256' } });
    expect(byType.api_key_edited).toMatchObject({ apiKey: key.apiKey, detail: { name: 'renamed key' } });
    expect(byType.api_key_deleted).toMatchObject({ apiKey: key.apiKey, detail: { name: 'renamed key' } });
    for (const event of events) expect(event.at).toBeLessThanOrEqual(harness.clock.now());
    expect(JSON.stringify(events)).not.toContain(key.secretKey);

    // Pages, newest first.
    const firstPage = await other.get<AuditPage>('/api/v1/audit-log?limit=4');
    expect(firstPage.body.events.map((e) => e.type)).toEqual(['login', 'api_key_deleted', 'api_key_enabled', 'api_key_disabled']);
    const secondPage = await other.get<AuditPage>(`/api/v1/audit-log?limit=4&before=${firstPage.body.nextBefore}`);
    expect(secondPage.body.events.map((e) => e.type)).toEqual(['api_key_edited', 'api_key_created', 'totp_bound', 'login_failed']);
    const lastPage = await other.get(`/api/v1/audit-log?limit=4&before=${secondPage.body.nextBefore}`);
    expect(lastPage.body).toMatchObject({ events: [{ type: 'signup' }], nextBefore: null });
    expectError(await other.get('/api/v1/audit-log?limit=1000'), 400, 'invalid_request', 'limit');

    // Nobody else sees them.
    const stranger = await portal.signUp('stranger@example.test');
    expect((await auditLog(stranger)).map((e) => e.type)).toEqual(['signup']);
  });

  it('aggregates signed-API rejections per key, minute and reason', async () => {
    const address = 'rejections@example.test';
    const client = await portal.signUp(address);
    const seed = await portal.bindTotp(client);
    const open = await portal.createKey(client, address, seed, { name: 'open', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    const fenced = await portal.createKey(client, address, seed, { name: 'fenced', method: 'HmacSHA256', ips: '192.0.2.10', authority: ['read'] });
    // Start at the beginning of a minute, so that what follows falls in one.
    harness.clock.advance(MINUTE - (harness.clock.now() % MINUTE));
    // The clock runs on meanwhile (it is the real one, moved ahead): the minute is where it started.
    const started = harness.clock.now();
    const minute = started - (started % MINUTE);

    const forged = { apiKey: open.apiKey, secretKey: '0123456789ABCDEF0123456789ABCDEF' };
    for (let i = 0; i < 3; i++) expect(await portal.signed(forged)).toMatchObject({ result: 'false', error_code: 10007 });
    expect(await portal.signed(fenced)).toMatchObject({ result: 'false', error_code: 10022 });
    expect(await portal.signed(fenced)).toMatchObject({ result: 'false', error_code: 10022 });
    expect(await portal.signed(open, 'test/trade_probe')).toMatchObject({ result: 'false', error_code: 10022 });
    expect(await portal.signed(open)).toMatchObject({ result: 'true' });
    // From another address (a trusted proxy names it), in the next minute.
    harness.clock.advance(MINUTE);
    expect(await portal.signed(forged, 'supplement/api_Restrictions', '198.51.100.77')).toMatchObject({ error_code: 10007 });
    // A key nobody has is nobody's business.
    expect(await portal.signed({ apiKey: '00000000-0000-4000-8000-000000000000', secretKey: forged.secretKey })).toMatchObject({ error_code: 10005 });

    const rejections = (await auditLog(client)).filter((e) => e.type === 'signed_request_rejected');
    const summary = rejections.map((e) => ({ apiKey: e.apiKey, reason: e.detail?.reason, count: e.count, at: e.at, ip: e.ip }));
    expect(summary).toEqual([
      { apiKey: open.apiKey, reason: 'bad_signature', count: 1, at: minute + MINUTE, ip: '198.51.100.77' },
      { apiKey: open.apiKey, reason: 'authority_missing', count: 1, at: minute, ip: '127.0.0.1' },
      { apiKey: fenced.apiKey, reason: 'ip_not_allowed', count: 2, at: minute, ip: '127.0.0.1' },
      { apiKey: open.apiKey, reason: 'bad_signature', count: 3, at: minute, ip: '127.0.0.1' },
    ]);

    // More of the same minute adds to the same row, also across flushes.
    harness.clock.advance(1000);
    expect(await portal.signed(forged, 'supplement/api_Restrictions', '198.51.100.78')).toMatchObject({ error_code: 10007 });
    const again = (await auditLog(client)).filter((e) => e.type === 'signed_request_rejected');
    expect(again).toHaveLength(4);
    expect(again[0]).toMatchObject({ count: 2, ip: '198.51.100.78' });
  });
});

describe.each(DATABASE_KINDS)('key warnings (%s)', (kind) => {
  let harness: PortalHarness;
  let portal: Portal;
  // Created here rather than by the server, so that it outlives a restart of the server.
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    harness = await startPortal(kind, { database });
    portal = harness.portal;
  });
  afterAll(async () => {
    await harness?.stop();
    await database?.drop();
  });

  it('mails 7 days and 1 day before authority lapses and after 30 days unused, once each, across restarts', async () => {
    const address = 'warned@example.test';
    const client = await portal.signUp(address);
    const seed = await portal.bindTotp(client);
    const expiring = await portal.createKey(client, address, seed, { name: 'unbound', method: 'RSA', ips: '', authority: ['read', 'trade'] });
    const bound = await portal.createKey(client, address, seed, { name: 'bound', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'trade'] });
    const readOnly = await portal.createKey(client, address, seed, { name: 'reader', method: 'RSA', ips: '', authority: ['read'] });
    const warnings = () => harness.mail.to(address).filter((m) => m.subject.startsWith('Keygate: API key'));
    const run = () => harness.kg.app.keyWarnings.runOnce();

    expect(await run()).toBe(0);

    // 7 days before the unbound key's Trade lapses (Read-only and IP-bound keys never lapse).
    harness.clock.offset += expiring.createdAt + 23 * DAY + 1000 - harness.clock.now();
    expect(await run()).toBe(1);
    expect(warnings().at(-1)!.subject).toBe('Keygate: API key "unbound" loses its trading authority in 7 days');
    expect(warnings().at(-1)!.text).toContain(expiring.apiKey);
    expect(await run()).toBe(0);

    // A restart over the same database does not send it again.
    await harness.kg.stop();
    const restarted = await startPortal(kind, { database, clock: harness.clock, mail: harness.mail });
    try {
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);
      harness.clock.advance(DAY);
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);

      // 1 day before; a mail server that fails once only delays it.
      harness.clock.offset += expiring.createdAt + 29 * DAY + 1000 - harness.clock.now();
      harness.mail.failNext(1);
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(1);
      expect(warnings().at(-1)!.subject).toBe('Keygate: API key "unbound" loses its trading authority in 1 day');
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);

      // The bound key is used; the other two are not.
      const used = await restarted.portal.signed(bound);
      expect(used).toMatchObject({ result: 'true' });
      const usedAt = harness.clock.now();

      // 30 days after creation: the two unused keys; the job's own pass (as `serve` runs it) sends them.
      harness.clock.offset += readOnly.createdAt + 30 * DAY + 1000 - harness.clock.now();
      const before = warnings().length;
      await restarted.kg.app.jobs.runOnce();
      const unused = warnings().slice(before);
      expect(unused.map((m) => m.subject).sort()).toEqual([
        'Keygate: API key "reader" has not been used for 30 days',
        'Keygate: API key "unbound" has not been used for 30 days',
      ]);
      expect(unused.every((m) => m.from === 'keygate@example.test')).toBe(true);
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);

      // 30 days after its last use, the bound key too; the others are not warned again.
      harness.clock.offset += usedAt + 30 * DAY + 1000 - harness.clock.now();
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(1);
      expect(warnings().at(-1)!.subject).toBe('Keygate: API key "bound" has not been used for 30 days');
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);

      // Deleted and disabled keys are not warned about.
      const c = restarted.portal.client();
      expect((await c.post('/api/v1/auth/login', { email: address, password: 'a long and unusual passphrase', totp: restarted.portal.nextTotp(seed) })).status).toBe(200);
      expect((await c.delete('/api/v1/api-keys')).body).toEqual({ deleted: 3 });
      harness.clock.advance(60 * DAY);
      expect(await restarted.kg.app.keyWarnings.runOnce()).toBe(0);
    } finally {
      await restarted.stop();
    }
  });

  it('starts and stops with the server process, and writes pending rejections when it closes', async () => {
    const own = await createTestDatabase(kind);
    const fresh = await startPortal(kind, { database: own, clock: harness.clock, mail: harness.mail });
    const address = 'closing@example.test';
    const client = await fresh.portal.signUp(address);
    const seed = await fresh.portal.bindTotp(client);
    const key = await fresh.portal.createKey(client, address, seed, { name: 'k', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
    fresh.kg.app.jobs.start(60 * 60 * 1000);
    await fresh.kg.app.jobs.runOnce();
    await fresh.kg.app.jobs.stop();

    const lbank = new LbankClient({ baseUrl: fresh.kg.baseUrl, apiKey: key.apiKey, secret: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' });
    const { params, headers } = lbank.sign({}, { timestamp: harness.clock.now() });
    const refused = await fetch(`${fresh.kg.baseUrl}/v2/supplement/api_Restrictions.do`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) });
    expect(await refused.json()).toMatchObject({ error_code: 10007 });
    await fresh.kg.stop();

    const again = await startPortal(kind, { database: own, clock: harness.clock, mail: harness.mail });
    try {
      const reader = again.portal.client();
      expect((await reader.post('/api/v1/auth/login', { email: address, password: 'a long and unusual passphrase', totp: again.portal.nextTotp(seed) })).status).toBe(200);
      const events = await auditLog(reader);
      expect(events.find((e) => e.type === 'signed_request_rejected')).toMatchObject({ apiKey: key.apiKey, count: 1, detail: { reason: 'bad_signature' } });
    } finally {
      await again.stop();
      await own.drop();
    }
  });
});
