// Master-key rotation with the built CLI (bin/keygate, as an operator runs it) against real servers,
// on SQLite and PostgreSQL: rotation under a signed load without a failed request; afterwards the new
// key alone opens everything and the old key alone opens nothing; a rotation killed with SIGKILL after
// its first batch is finished by running it again; no secret in any output or log.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { totpCode } from '../src/domain/totp.js';
import { SecretBox, masterKeyId } from '../src/security/secret-box.js';
import { secretContext } from '../src/services/api-keys.js';
import { seedContext } from '../src/services/authenticator.js';
import type { MasterKeyStatus } from '../src/services/master-key.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from './support/databases.js';
import { SHARED_REDIS_URL } from './support/fleet.js';
import { signedPost } from './support/requests.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const run = promisify(execFile);
const BIN = new URL('../bin/keygate', import.meta.url).pathname;
const RESTRICTIONS = 'supplement/api_Restrictions';
const KEYS = 24;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const newKey = () => randomBytes(32).toString('base64');

describe.each(DATABASE_KINDS)('master-key rotation on %s', (kind) => {
  let database: TestDatabase;
  const redisPrefix = `keygate-test:${randomBytes(6).toString('hex')}:`;
  const oldKey = newKey();
  const newerKey = newKey();
  const newestKey = newKey();
  /** The servers' clock, moved ahead between authenticator checks (a code is accepted once per step). */
  let offset = 0;
  const now = () => Date.now() + offset;
  const keys: Array<{ apiKey: string; secret: string }> = [];
  /** Everything that must never be printed or logged. */
  const secrets: string[] = [oldKey, newerKey, newestKey];
  const outputs: string[] = [];
  let boundUserId: number;
  let boundSeed: string;
  let pendingUserId: number;
  let pendingSeed: string;

  /** The environment of servers and of the CLI over this database, with these master keys. */
  const env = (current: string, previous?: string): Record<string, string> => ({
    KEYGATE_MASTER_KEY: current,
    ...(previous ? { KEYGATE_MASTER_KEY_PREVIOUS: previous } : {}),
    // The load below sends far more than LBank's 200 requests per key and 10 s.
    KEYGATE_RATE_LIMITS: 'off',
    // On PostgreSQL as a fleet runs: keys' generations in Redis, rows cached by every server.
    ...(kind === 'postgres' ? { REDIS_URL: SHARED_REDIS_URL, KEYGATE_REDIS_PREFIX: redisPrefix } : {}),
  });
  const start = (current: string, previous?: string) => startKeygate(kind, { database, now, env: env(current, previous) });

  const cliEnv = (current: string, previous?: string): NodeJS.ProcessEnv => {
    const vars: NodeJS.ProcessEnv = { ...process.env, KEYGATE_DATA_DIR: database.dataDir, LOG_LEVEL: 'info' };
    delete vars.KEYGATE_MASTER_KEY_PREVIOUS;
    Object.assign(vars, env(current, previous));
    if (database.databaseUrl) vars.DATABASE_URL = database.databaseUrl;
    else delete vars.DATABASE_URL;
    return vars;
  };
  const cli = async (vars: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> => {
    let result: CliResult;
    try {
      const { stdout, stderr } = await run(BIN, args, { env: vars });
      result = { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      result = { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const status = async (vars: NodeJS.ProcessEnv): Promise<MasterKeyStatus> => {
    const result = await cli(vars, 'admin', 'master-key', 'status', '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as MasterKeyStatus;
  };
  const keyFile = (key: string) => {
    const path = join(database.dataDir, `new-${randomBytes(4).toString('hex')}.key`);
    writeFileSync(path, `${key}\n`, { mode: 0o600 });
    return path;
  };
  const stop = async (server: RunningKeygate) => {
    await server.stop();
    outputs.push(...server.logs);
  };
  /** Every key signs one request against the server; the error codes, in order. */
  const signAll = async (server: RunningKeygate) => {
    const codes: number[] = [];
    for (const key of keys) codes.push((await signedPost(server.baseUrl, RESTRICTIONS, new LbankClient({ baseUrl: server.baseUrl, ...key }), { timestamp: now() })).body.error_code);
    return codes;
  };
  const checkTotp = async (server: RunningKeygate) => {
    offset += 60_000;
    const user = (await server.app.accounts.findById(boundUserId))!;
    return server.app.authenticator.check(user, totpCode(boundSeed, now()), '127.0.0.1');
  };

  beforeAll(async () => {
    if (!existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) throw new Error('dist/ is missing: run `npm test`, which builds first');
    database = await createTestDatabase(kind);
    // Before the rotation: everything sealed under the old key.
    const first = await start(oldKey);
    const { app } = first;
    for (let i = 0; i < KEYS; i++) {
      const user = await app.accounts.create(`owner${i}@example.test`, undefined);
      const created = await app.apiKeys.create(user.id, { name: `bot ${i}`, method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
      secrets.push(created.secret!);
      keys.push({ apiKey: created.key.apiKey, secret: created.secret! });
    }
    // An RSA key: only its public key is stored, nothing to reseal.
    const rsaOwner = await app.accounts.create('rsa@example.test', undefined);
    const rsa = await app.apiKeys.create(rsaOwner.id, { name: 'rsa', method: 'RSA', ips: '127.0.0.1', authority: ['read'] });
    keys.push({ apiKey: rsa.key.apiKey, secret: rsa.secret! });
    // A bound authenticator, and one set up but not confirmed yet.
    const bound = await app.accounts.create('bound@example.test', 'a long and unusual passphrase');
    boundUserId = bound.id;
    boundSeed = (await app.authenticator.setup(bound)).secret;
    await app.authenticator.confirm(bound, totpCode(boundSeed, now()), '127.0.0.1');
    const pending = await app.accounts.create('pending@example.test', 'a long and unusual passphrase');
    pendingUserId = pending.id;
    pendingSeed = (await app.authenticator.setup(pending)).secret;
    secrets.push(boundSeed, pendingSeed);
    expect(await signAll(first)).toEqual(keys.map(() => 0));
    await stop(first);
  }, 120_000);

  afterAll(async () => {
    await database?.drop();
  });

  it('rotates while signed requests run, without a failed request; status then counts nothing under the old key', async () => {
    // The rolling restart: the new key seals, the old one still opens.
    const server = await start(newerKey, oldKey);
    try {
      const vars = cliEnv(newerKey, oldKey);
      const before = await status(vars);
      expect(before.keyId).toBe(masterKeyId(Buffer.from(newerKey, 'base64')));
      expect(before.kinds.api_key_secret).toMatchObject({ total: KEYS, current: 0, remaining: KEYS, others: [{ keyId: masterKeyId(Buffer.from(oldKey, 'base64')), count: KEYS, opens: true }] });
      expect(before.kinds.totp_seed).toMatchObject({ total: 2, remaining: 2 });

      // A key created now is sealed under the new key at once.
      const late = await server.app.apiKeys.create((await server.app.accounts.create('late@example.test', undefined)).id, { name: 'late', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] });
      secrets.push(late.secret!);
      keys.push({ apiKey: late.key.apiKey, secret: late.secret! });

      let rotating = true;
      let sent = 0;
      const failures: string[] = [];
      const worker = async (w: number) => {
        for (let i = w; rotating; i++) {
          const reply = await signedPost(server.baseUrl, RESTRICTIONS, new LbankClient({ baseUrl: server.baseUrl, ...keys[i % keys.length]! }), { timestamp: now() });
          sent++;
          if (reply.status !== 200 || reply.body.error_code !== 0) failures.push(`${reply.status} ${reply.body.error_code} ${reply.body.msg ?? ''}`);
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(worker));
      const rotation = cli(vars, 'admin', 'master-key', 'rotate', '--new-key-file', keyFile(newerKey), '--batch-size', '5', '--pause-ms', '100', '--json');
      const result = await rotation.finally(() => (rotating = false));
      await load;
      expect(result.code, result.stderr).toBe(0);
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(20);
      const summary = JSON.parse(result.stdout) as { resealed: Record<string, number>; unreadable: Record<string, number>; batches: number; status: MasterKeyStatus };
      expect(summary.resealed).toEqual({ api_key_secret: KEYS, totp_seed: 2 });
      expect(summary.unreadable).toEqual({ api_key_secret: 0, totp_seed: 0 });
      expect(summary.batches).toBe(Math.ceil(KEYS / 5) + 1);
      expect(result.stderr).toMatch(/^batch 1: resealed 5 API key secrets/m);

      const after = await status(vars);
      expect(after.remaining).toBe(0);
      expect(after.kinds.api_key_secret).toEqual({ total: KEYS + 1, current: KEYS + 1, remaining: 0, others: [] });
      expect(after.kinds.totp_seed).toEqual({ total: 2, current: 2, remaining: 0, others: [] });
      // Running it again finds nothing to do.
      const again = await cli(vars, 'admin', 'master-key', 'rotate', '--new-key-env', 'KEYGATE_MASTER_KEY');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^Resealed 0 API key secret\(s\) and 0 authenticator seed\(s\) in 0 batch\(es\)/);
      expect(await signAll(server)).toEqual(keys.map(() => 0));
      await checkTotp(server);
    } finally {
      await stop(server);
    }
  }, 120_000);

  it('after the rotation the new key alone opens everything, and the old key alone nothing', async () => {
    const server = await start(newerKey);
    try {
      expect(await signAll(server)).toEqual(keys.map(() => 0));
      await checkTotp(server);
      // The seed set up before the rotation, resealed while pending, is confirmed now.
      const pending = (await server.app.accounts.findById(pendingUserId))!;
      await server.app.authenticator.confirm(pending, totpCode(pendingSeed, now()), '127.0.0.1');
    } finally {
      await stop(server);
    }

    const stale = await start(oldKey);
    try {
      const codes = await signAll(stale);
      // Only the RSA key, whose public key is not sealed, still verifies.
      expect(codes.filter((c) => c === 0)).toHaveLength(1);
      expect(codes.filter((c) => c === 10000)).toHaveLength(keys.length - 1);
      await expect(checkTotp(stale)).rejects.toThrow(/master key/);
    } finally {
      await stop(stale);
    }
    // And byte for byte: no stored value opens under the old key, every one under the new.
    const reader = await start(newerKey);
    try {
      const oldBox = new SecretBox(Buffer.from(oldKey, 'base64'));
      const newBox = new SecretBox(Buffer.from(newerKey, 'base64'));
      const keys = await reader.app.database.db.selectFrom('api_keys').select(['api_key', 'secret_sealed']).where('secret_sealed', 'is not', null).execute();
      const seeds = await reader.app.database.db.selectFrom('authenticators').select(['user_id', 'seed_sealed']).execute();
      expect(keys.length + seeds.length).toBe(KEYS + 1 + 2);
      for (const k of keys) {
        expect(() => oldBox.open(k.secret_sealed!, secretContext(k.api_key))).toThrow();
        expect(newBox.open(k.secret_sealed!, secretContext(k.api_key))).toMatch(/^[0-9A-F]{32}$/);
      }
      for (const s of seeds) {
        expect(() => oldBox.open(s.seed_sealed, seedContext(s.user_id))).toThrow();
        expect([boundSeed, pendingSeed]).toContain(newBox.open(s.seed_sealed, seedContext(s.user_id)));
      }
    } finally {
      await stop(reader);
    }
  }, 120_000);

  it('a rotation killed with SIGKILL after its first batch is finished by running it again', async () => {
    const vars = cliEnv(newestKey, newerKey);
    const total = KEYS + 1;
    // A pause between batches, so that the kill lands after the first one and well before the last.
    const child = spawn(BIN, ['admin', 'master-key', 'rotate', '--new-key-file', '-', '--batch-size', '5', '--pause-ms', '5000'], { env: vars, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(`${newestKey}\n`);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (/^batch 1: /m.test(stderr)) resolve();
      });
      child.once('exit', () => reject(new Error(`the rotation ended before its first batch was reported: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    outputs.push(stdout, stderr);

    const halfway = await status(vars);
    expect(halfway.kinds.api_key_secret).toMatchObject({ total, current: 5, remaining: total - 5 });
    expect(halfway.kinds.totp_seed.remaining).toBe(2);

    const resumed = await cli(vars, 'admin', 'master-key', 'rotate', '--new-key-file', keyFile(newestKey), '--batch-size', '5');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^Resealed ${total - 5} API key secret\\(s\\) and 2 authenticator seed\\(s\\)`));
    expect((await status(vars)).remaining).toBe(0);

    const server = await start(newestKey);
    try {
      expect(await signAll(server)).toEqual(keys.map(() => 0));
      await checkTotp(server);
    } finally {
      await stop(server);
    }
  }, 120_000);

  it('refuses a new key that servers configured like the CLI could not open, and bad key input', async () => {
    const vars = cliEnv(newestKey);
    const stranger = newKey();
    secrets.push(stranger);
    const refused = await cli(vars, 'admin', 'master-key', 'rotate', '--new-key-file', keyFile(stranger));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/neither KEYGATE_MASTER_KEY nor KEYGATE_MASTER_KEY_PREVIOUS/);
    const bad = await cli(vars, 'admin', 'master-key', 'rotate', '--new-key-env', 'KEYGATE_DATA_DIR');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not hold a master key/);
    expect(bad.stderr).not.toContain(database.dataDir);
    const none = await cli(vars, 'admin', 'master-key', 'rotate');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--new-key-file/);
    const size = await cli(vars, 'admin', 'master-key', 'rotate', '--new-key-env', 'KEYGATE_MASTER_KEY', '--batch-size', '0');
    expect(size.stderr).toMatch(/--batch-size/);
    // Status against a key that sealed nothing: everything remains.
    const against = await cli(vars, 'admin', 'master-key', 'status', '--new-key-file', keyFile(stranger), '--json');
    expect(against.code, against.stderr).toBe(0);
    const counted = JSON.parse(against.stdout) as MasterKeyStatus;
    expect(counted).toMatchObject({ keyId: masterKeyId(Buffer.from(stranger, 'base64')), remaining: KEYS + 1 + 2 });
    expect(counted.kinds.api_key_secret.others).toEqual([{ keyId: masterKeyId(Buffer.from(newestKey, 'base64')), count: KEYS + 1, opens: true }]);
  });

  it('binds an authenticator whose pending seed a rotation resealed between its check and its binding', async () => {
    // Set up under one key…
    const before = await start(newerKey, newestKey);
    let userId: number;
    let seed: string;
    try {
      const user = await before.app.accounts.create('racing@example.test', 'a long and unusual passphrase');
      userId = user.id;
      seed = (await before.app.authenticator.setup(user)).secret;
      secrets.push(seed);
    } finally {
      await stop(before);
    }
    // …confirmed on a server that seals under the next, while a rotation reseals the seed.
    const server = await start(newestKey, newerKey);
    try {
      const user = (await server.app.accounts.findById(userId))!;
      let resealed = 0;
      await server.app.authenticator.confirm(user, totpCode(seed, now()), '127.0.0.1', async () => {
        resealed = (await server.app.masterKeys.rotate(server.app.secretBox, { batchSize: 10 })).resealed.totp_seed;
      });
      expect(resealed).toBe(1);
      expect(await server.app.authenticator.isBound(userId)).toBe(true);
      expect((await server.app.masterKeys.status(server.app.secretBox)).remaining).toBe(0);
    } finally {
      await stop(server);
    }
  });

  it('prints and logs no secret and no master key', () => {
    const everything = outputs.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(everything.includes(secret), secret.slice(0, 4)).toBe(false);
    for (const key of [oldKey, newerKey, newestKey]) expect(everything.includes(Buffer.from(key, 'base64').toString('hex'))).toBe(false);
  });
});
