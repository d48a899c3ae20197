// A copy of the database, or the logs, must not reveal any secret.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { DATABASE_KINDS } from './support/databases.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

describe.each(DATABASE_KINDS)('secrets at rest on %s', (kind) => {
  let keygate: RunningKeygate;
  const secrets: string[] = [];

  beforeAll(async () => {
    keygate = await startKeygate(kind, { env: { LOG_LEVEL: 'trace' } });
    const user = await keygate.app.accounts.create('secrets@example.com', 'correct horse battery');
    for (const method of ['HmacSHA256', 'RSA'] as const) {
      const created = await keygate.app.apiKeys.create(user.id, { name: method, method, ips: '127.0.0.1', authority: ['read', 'trade'] });
      secrets.push(created.secret!);
      const client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: created.key.apiKey, secret: created.secret! });
      // Use the keys, including a failing request, so that every logging path runs.
      expect((await signedPost(keygate.baseUrl, 'supplement/api_Restrictions', client)).body.error_code).toBe(0);
      expect((await signedPost(keygate.baseUrl, 'supplement/api_Restrictions', client, { tamper: (p) => (p.params.sign = 'bad') })).body.error_code).toBe(10007);
    }
  });
  afterAll(async () => keygate?.stop());

  /** Fragments long enough to be unmistakable: the whole HMAC secret, in both cases, and pieces of the RSA private key. */
  function needles(): string[] {
    const [hmacSecret, rsaPrivate] = secrets as [string, string];
    return [hmacSecret, hmacSecret.toLowerCase(), Buffer.from(hmacSecret).toString('base64'), rsaPrivate.slice(100, 140), rsaPrivate.slice(-60, -20)];
  }

  it('stores no secret in the database', async () => {
    let haystack: string;
    if (kind === 'sqlite') {
      // The database file with its write-ahead log, byte for byte.
      haystack = readdirSync(keygate.database.dataDir)
        .filter((f) => f.startsWith('keygate.sqlite'))
        .map((f) => readFileSync(join(keygate.database.dataDir, f)).toString('latin1'))
        .join('\n');
      expect(haystack.length).toBeGreaterThan(1000);
    } else {
      const rows = await sql<{ dump: string }>`SELECT string_agg(t::text, E'\n') AS dump FROM (SELECT * FROM api_keys) t`.execute(keygate.app.database.db);
      haystack = rows.rows[0]!.dump;
      expect(haystack).toContain('HmacSHA256');
    }
    for (const needle of needles()) expect(haystack.includes(needle), needle.slice(0, 6)).toBe(false);
  });

  it('writes no secret to the logs', () => {
    const logs = keygate.logs.join('\n');
    for (const needle of needles()) expect(logs.includes(needle)).toBe(false);
  });

  it('cannot show a secret again through the key list', async () => {
    const listed = JSON.stringify(await keygate.app.apiKeys.list((await keygate.app.accounts.findByEmail('secrets@example.com'))!.id));
    expect(listed).toContain('HmacSHA256');
    for (const needle of needles()) expect(listed.includes(needle)).toBe(false);
  });
});
