// The portal's configuration: mail, sessions and the authenticator's issuer, each checked at start-up
// with an error that names the variable; and the log mailer that lets a server run alone.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DATABASE_KINDS } from './support/databases.js';
import { PortalClient } from './support/portal.js';
import { startKeygate } from './support/server.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ KEYGATE_DATA_DIR: '/tmp/keygate-config-test', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('portal configuration', () => {
  it('has defaults that work alone', () => {
    const config = loadConfig({ KEYGATE_DATA_DIR: '/tmp/keygate-config-test' });
    expect(config).toMatchObject({
      smtpUrl: undefined,
      mailFrom: 'Keygate <keygate@localhost>',
      sessionIdleMs: 30 * 60_000,
      sessionMaxMs: 12 * 3_600_000,
      totpIssuer: 'Keygate',
      jobIntervalMs: 600_000,
    });
  });

  it('reads the variables', () => {
    const config = loadConfig({
      KEYGATE_DATA_DIR: '/tmp/keygate-config-test',
      SMTP_URL: 'smtps://user:pass@mail.example.test:465',
      MAIL_FROM: 'ops@example.test',
      KEYGATE_SESSION_IDLE_MINUTES: '15',
      KEYGATE_SESSION_MAX_HOURS: '24',
      KEYGATE_TOTP_ISSUER: 'Keygate Sandbox',
      KEYGATE_JOB_INTERVAL_SECONDS: '60',
    });
    expect(config).toMatchObject({
      smtpUrl: 'smtps://user:pass@mail.example.test:465',
      mailFrom: 'ops@example.test',
      sessionIdleMs: 15 * 60_000,
      sessionMaxMs: 24 * 3_600_000,
      totpIssuer: 'Keygate Sandbox',
      jobIntervalMs: 60_000,
    });
  });

  it('names the variable of a bad value', () => {
    expect(configError({ SMTP_URL: 'http://mail.example.test' }).variable).toBe('SMTP_URL');
    expect(configError({ SMTP_URL: 'not a url' }).variable).toBe('SMTP_URL');
    expect(configError({ MAIL_FROM: 'nobody' }).variable).toBe('MAIL_FROM');
    expect(configError({ MAIL_FROM: 'Keygate <broken' }).variable).toBe('MAIL_FROM');
    expect(configError({ KEYGATE_SESSION_IDLE_MINUTES: '0' }).variable).toBe('KEYGATE_SESSION_IDLE_MINUTES');
    expect(configError({ KEYGATE_SESSION_MAX_HOURS: 'forever' }).variable).toBe('KEYGATE_SESSION_MAX_HOURS');
    expect(configError({ KEYGATE_TOTP_ISSUER: 'Key:gate' }).variable).toBe('KEYGATE_TOTP_ISSUER');
    expect(configError({ KEYGATE_JOB_INTERVAL_SECONDS: '1' }).variable).toBe('KEYGATE_JOB_INTERVAL_SECONDS');
  });
});

describe.each(DATABASE_KINDS)('mail without SMTP_URL (%s)', (kind) => {
  it('writes the mail to the server log, so that a server started alone shows its codes', async () => {
    const kg = await startKeygate(kind, { env: { SMTP_URL: '' } });
    try {
      const client = new PortalClient(kg.baseUrl);
      const sent = await client.post('/api/v1/auth/email-code', { email: 'alone@example.test', purpose: 'signup' });
      expect(sent.status).toBe(200);
      const line = kg.logs.map((l) => JSON.parse(l) as { mail?: { to: string; text: string } }).find((l) => l.mail?.to === 'alone@example.test');
      const code = /\b(\d{6})\b/.exec(line?.mail?.text ?? '')?.[1];
      expect(code).toMatch(/^\d{6}$/);
      const signup = await client.post('/api/v1/auth/signup', { email: 'alone@example.test', password: 'a long and unusual passphrase', emailCode: code });
      expect(signup.status).toBe(201);
    } finally {
      await kg.stop();
    }
  });
});
