// bin/keygate as a separate process against the database a running server uses (npm test builds first).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { loadConfig, startupWarnings } from '../src/config.js';
import { newRsaKeyPair } from '../src/domain/keys.js';
import { DATABASE_KINDS } from './support/databases.js';
import { signedPost } from './support/requests.js';
import { HUGE_EXPONENT, rsaPublicKeyPem } from './support/rsa.js';
import { startKeygate, type RunningKeygate } from './support/server.js';

const run = promisify(execFile);
const BIN = new URL('../bin/keygate', import.meta.url).pathname;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function keygateCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(BIN, args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs the CLI with `input` on its standard input. */
function keygateCliWithInput(env: NodeJS.ProcessEnv, input: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe.each(DATABASE_KINDS)('the CLI on %s', (kind) => {
  let keygate: RunningKeygate;
  const cli = (...args: string[]) => keygateCli(keygate.env, ...args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as T;
  };

  beforeAll(async () => {
    if (!existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) throw new Error('dist/ is missing: run `npm test`, which builds first');
    keygate = await startKeygate(kind);
  });
  afterAll(async () => keygate?.stop());

  it('creates an account, an HMAC key (secret printed once) and credits a balance the server sees at once', async () => {
    const user = await json<{ uid: string; email: string }>('admin', 'user', 'create', '--email', 'Cli@Example.com', '--password', 'correct horse battery');
    expect(user).toMatchObject({ email: 'cli@example.com', uid: expect.stringMatching(/^\d{9}$/) });

    const created = await json<{ apiKey: string; secret: string; method: string; authority: string[] }>(
      'admin', 'key', 'create', '--email', 'cli@example.com', '--name', 'MM Bot', '--method', 'HmacSHA256', '--ips', '127.0.0.1', '--authority', 'read,trade',
    );
    expect(created).toMatchObject({ method: 'HmacSHA256', authority: ['read', 'trade'], secret: expect.stringMatching(/^[0-9A-F]{32}$/) });

    const listed = await cli('admin', 'key', 'list', '--email', 'cli@example.com');
    expect(listed.stdout).toContain(created.apiKey);
    expect(listed.stdout).not.toContain(created.secret);

    const client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: created.apiKey, secret: created.secret });
    await json('admin', 'balance', 'credit', '--email', 'cli@example.com', '--asset', 'usdt', '--amount', '42.5');
    const info = await client.call<{ free: Record<string, string> }>('user_info');
    expect(info.free.usdt).toBe('42.5');

    await json('admin', 'key', 'disable', '--api-key', created.apiKey);
    expect((await signedPost(keygate.baseUrl, 'supplement/api_Restrictions', client)).body.error_code).toBe(10005);
    await json('admin', 'key', 'enable', '--api-key', created.apiKey);
    expect((await signedPost(keygate.baseUrl, 'supplement/api_Restrictions', client)).body.error_code).toBe(0);
    await json('admin', 'key', 'delete', '--api-key', created.apiKey);
    expect((await signedPost(keygate.baseUrl, 'supplement/api_Restrictions', client)).body.error_code).toBe(10005);
    expect((await cli('admin', 'key', 'enable', '--api-key', created.apiKey)).code).not.toBe(0);
  });

  it('creates RSA keys, generated or from the user’s own public key', async () => {
    await json('admin', 'user', 'create', '--email', 'rsa@example.com');
    const generated = await json<{ apiKey: string; secret: string }>('admin', 'key', 'create', '--email', 'rsa@example.com', '--name', 'gen', '--method', 'RSA');
    const client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: generated.apiKey, secret: generated.secret });
    expect(client.method).toBe('RSA');
    expect(await client.call('supplement/api_Restrictions')).toMatchObject({ ipRestrict: false });

    const pair = newRsaKeyPair();
    const file = join(mkdtempSync(join(tmpdir(), 'keygate-cli-')), 'public.b64');
    writeFileSync(file, pair.publicKey);
    const own = await json<{ apiKey: string; secret: null }>('admin', 'key', 'create', '--email', 'rsa@example.com', '--name', 'own', '--method', 'RSA', '--ips', '127.0.0.1', '--public-key', file);
    expect(own.secret).toBeNull();
    const ownClient = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: own.apiKey, secret: pair.privateKey });
    expect(await ownClient.call('supplement/api_Restrictions')).toMatchObject({ ipRestrict: true });
  });

  it('refuses an RSA public key whose size or exponent would make every signature check costly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-cli-'));
    for (const [name, pem, message] of [
      ['huge-exponent.pem', rsaPublicKeyPem(2048, HUGE_EXPONENT), /^keygate: publicKey: The RSA key's public exponent must be 65537/],
      ['8192.pem', rsaPublicKeyPem(8192, 65537n), /^keygate: publicKey: The RSA key must have 2048 to 4096 bits; this one has 8192\./],
    ] as const) {
      writeFileSync(join(dir, name), pem);
      const result = await cli('admin', 'key', 'create', '--email', 'rsa@example.com', '--name', 'costly', '--method', 'RSA', '--ips', '127.0.0.1', '--public-key', join(dir, name));
      expect(result.code, name).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  it('refuses Transfer without IPs, and audit-key flags a key with Transfer', async () => {
    await json('admin', 'user', 'create', '--email', 'mover@example.com');
    const refused = await cli('admin', 'key', 'create', '--email', 'mover@example.com', '--name', 'mover', '--method', 'RSA', '--authority', 'read,transfer');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('keygate: ips: Transfer authority needs at least one IP address bound to the key.\n');
    const mover = await json<{ apiKey: string; secret: string }>('admin', 'key', 'create', '--email', 'mover@example.com', '--name', 'mover', '--method', 'HmacSHA256', '--ips', '127.0.0.1', '--authority', 'read,transfer');
    const report = await json<{ findings: Array<{ rule: string }> }>('audit-key', '--api-key', mover.apiKey, '--secret', mover.secret, '--base-url', keygate.baseUrl);
    expect(report.findings.map((f) => f.rule)).toEqual(['transfer_enabled']);
    expect((await cli('audit-key', '--api-key', mover.apiKey, '--secret', mover.secret, '--base-url', keygate.baseUrl)).stdout).toMatch(/Transfer is enabled/);
  });

  it('explains refusals on stderr with a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['admin', 'key', 'create', '--email', 'rsa@example.com', '--name', 'x', '--method', 'HmacSHA256'], /ips: .*HmacSHA256/],
      [['admin', 'key', 'create', '--email', 'rsa@example.com', '--name', 'x', '--method', 'RSA', '--ips', '1.2.3.4, 5.6.7.8'], /without spaces/],
      [['admin', 'key', 'create', '--email', 'nobody@example.com', '--name', 'x', '--method', 'RSA'], /No account/],
      [['admin', 'balance', 'credit', '--email', 'rsa@example.com', '--asset', 'usdt', '--amount', 'lots'], /not a plain positive decimal/],
      [['admin', 'user', 'create', '--email', 'rsa@example.com'], /already exists/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  it('refuses the sixth key', async () => {
    await json('admin', 'user', 'create', '--email', 'five@example.com');
    for (let i = 1; i <= 5; i++) await json('admin', 'key', 'create', '--email', 'five@example.com', '--name', `k${i}`, '--method', 'HmacSHA256', '--ips', '127.0.0.1');
    const sixth = await cli('admin', 'key', 'create', '--email', 'five@example.com', '--name', 'k6', '--method', 'HmacSHA256', '--ips', '127.0.0.1');
    expect(sixth.code).toBe(1);
    expect(sixth.stderr).toMatch(/up to 5 API key pairs/);
  });

  it('audits a key against the server and signs requests for client authors', async () => {
    await json('admin', 'user', 'create', '--email', 'audit@example.com');
    const risky = await json<{ apiKey: string; secret: string }>('admin', 'key', 'create', '--email', 'audit@example.com', '--name', 'risky', '--method', 'HmacSHA256', '--ips', '127.0.0.1', '--authority', 'read,trade,withdraw');
    const report = await json<{ findings: Array<{ rule: string }> }>('audit-key', '--api-key', risky.apiKey, '--secret', risky.secret, '--base-url', keygate.baseUrl);
    expect(report.findings.map((f) => f.rule)).toEqual(['withdrawals_enabled']);
    const human = await cli('audit-key', '--api-key', risky.apiKey, '--secret', risky.secret, '--base-url', keygate.baseUrl);
    expect(human.stdout).toMatch(/Withdrawals are enabled/);

    const signed = await json<{ stringToSign: string; digest: string; sign: string }>(
      'sign', '--method', 'HmacSHA256', '--secret', '374289492B19EBC9AEBF462E41B89D04', '--api-key', 'a65a79c3-fdc2-4aec-ae36-f8aad1129317',
      '--timestamp', '1700000000000', '--echostr', 'P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7', 'symbol=btc_usdt', 'type=buy', 'price=100.5', 'amount=10',
    );
    expect(signed).toEqual({
      stringToSign: 'amount=10&api_key=a65a79c3-fdc2-4aec-ae36-f8aad1129317&echostr=P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7&price=100.5&signature_method=HmacSHA256&symbol=btc_usdt&timestamp=1700000000000&type=buy',
      digest: 'D5A1738FDAEF7AAB36D808B7656A7C18',
      sign: 'fe05d19c268d7e77bbff80dd7ff4ff5cea959cadd384534380b7295ced77afbe',
    });
  });

  it('takes passwords and secrets from a file or standard input, out of sight of ps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-cli-'));
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'a passphrase from a file\n', { mode: 0o600 });
    await json('admin', 'user', 'create', '--email', 'filed@example.com', '--password-file', passwordFile);
    const created = await keygateCliWithInput(keygate.env, 'a passphrase from stdin\n', 'admin', 'user', 'create', '--email', 'piped@example.com', '--password-file', '-', '--json');
    expect(created.code, created.stderr).toBe(0);
    const login = async (email: string, password: string) =>
      (await fetch(new URL('/api/v1/auth/login', keygate.baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).status;
    expect(await login('filed@example.com', 'a passphrase from a file')).toBe(200);
    expect(await login('piped@example.com', 'a passphrase from stdin')).toBe(200);

    const both = await cli('admin', 'user', 'create', '--email', 'both@example.com', '--password', 'x', '--password-file', passwordFile);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/--password or --password-file, not both/);
    const missing = await cli('admin', 'user', 'create', '--email', 'none@example.com', '--password-file', join(dir, 'nothing'));
    expect(missing.stderr).toMatch(/--password-file: cannot read .*ENOENT/);

    const args = ['sign', '--method', 'HmacSHA256', '--api-key', 'k', '--timestamp', '1700000000000', '--echostr', 'P3LHfw6tUIYWc8R2VQNy0ilKmdg5pjhbxC7', 'a=1', '--json'];
    const inline = JSON.parse((await cli(...args, '--secret', '374289492B19EBC9AEBF462E41B89D04')).stdout) as { sign: string };
    const piped = await keygateCliWithInput(keygate.env, '374289492B19EBC9AEBF462E41B89D04\n', ...args, '--secret-file', '-');
    expect(JSON.parse(piped.stdout)).toEqual(inline);

    const help = await cli('admin', 'user', 'create', '--help');
    expect(help.stdout).toMatch(/--password-file <file>/);
    expect(help.stdout).toMatch(/visible to other users in `ps`/);
    expect((await cli('audit-key', '--help')).stdout).toMatch(/--secret-file <file>/);
  });
});

describe('the CLI settling withdrawals and setting fees', () => {
  let keygate: RunningKeygate;
  beforeAll(async () => {
    keygate = await startKeygate('sqlite');
  });
  afterAll(async () => keygate?.stop());

  it('completes and rejects withdrawals the server accepted, and overrides fee rates', async () => {
    const user = await keygate.app.accounts.create('payout@example.com', undefined);
    await keygate.app.ledger.credit(user.id, 'usdt', '500');
    const key = await keygate.app.apiKeys.create(user.id, { name: 'payout', method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read', 'withdraw'] });
    const client = new LbankClient({ baseUrl: keygate.baseUrl, apiKey: key.key.apiKey, secret: key.secret! });
    const first = await client.call<{ withdrawId: number }>('supplement/withdraw', { coin: 'usdt', amount: '100', fee: '1', address: 'TXYZsandbox01' });
    const second = await client.call<{ withdrawId: number }>('supplement/withdraw', { coin: 'usdt', amount: '50', fee: '1', address: 'TXYZsandbox01' });

    const completed = await keygateCli(keygate.env, 'admin', 'withdrawal', 'complete', '--id', String(first.withdrawId), '--txid', '0xabc', '--json');
    expect(JSON.parse(completed.stdout)).toMatchObject({ status: 'completed', txid: '0xabc' });
    const rejected = await keygateCli(keygate.env, 'admin', 'withdrawal', 'reject', '--id', String(second.withdrawId));
    expect(rejected.stdout).toContain('rejected');
    const again = await keygateCli(keygate.env, 'admin', 'withdrawal', 'reject', '--id', String(second.withdrawId));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already rejected/);
    const info = await client.call<{ free: Record<string, string>; freeze: Record<string, string> }>('user_info');
    expect([info.free.usdt, info.freeze.usdt]).toEqual(['399', '0']);

    const fee = await keygateCli(keygate.env, 'admin', 'fee', 'set', '--email', 'payout@example.com', '--maker', '0.0005', '--taker', '0.0015');
    expect(fee.code).toBe(0);
    expect(await client.call('supplement/customer_trade_fee', { category: 'btc_usdt' })).toEqual([{ symbol: 'btc_usdt', makerCommission: '0.05', takerCommission: '0.15' }]);
    expect((await keygateCli(keygate.env, 'admin', 'fee', 'set', '--email', 'payout@example.com', '--maker', '5', '--taker', '0')).stderr).toMatch(/fraction/);
  });
});

describe('the CLI configuration', () => {
  it('warns at start when the server listens beyond loopback without a trusted proxy (no Secure cookie)', () => {
    const base = { KEYGATE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(startupWarnings(loadConfig({ ...base, HOST: '127.0.0.1' }))).toEqual([]);
    const exposed = startupWarnings(loadConfig({ ...base, HOST: '0.0.0.0' }));
    expect(exposed).toHaveLength(1);
    expect(exposed[0]).toMatch(/without KEYGATE_TRUST_PROXY: .* without the Secure flag/);
    expect(startupWarnings(loadConfig({ ...base, HOST: '0.0.0.0', KEYGATE_TRUST_PROXY: '10.0.0.1' }))).toEqual([]);
  });

  it('stops with a message naming a bad variable', async () => {
    const result = await keygateCli({ ...process.env, KEYGATE_RECV_WINDOW_MS: 'soon' }, 'admin', 'key', 'list', '--email', 'a@b.io');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/KEYGATE_RECV_WINDOW_MS/);
  });
});
