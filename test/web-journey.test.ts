// The seed's whole journey in a real browser, on Keygate's own portal: sign up with the mailed code,
// bind Google Authenticator, open My API from the profile menu, create an HmacSHA256 key bound to
// 127.0.0.1 with Read and Trade, read the API information once, use the key through the SDK, edit its
// IPs, delete it, and see the signed API refuse it.
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LbankApiError, LbankClient } from '../src/client/index.js';
import { isFocused, launchBrowser, readClipboard, screenshot, skipBrowserTests, watchErrors, writeClipboard, type TestBrowser } from './support/browser.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { codeIn } from './support/smtp.js';

const EMAIL = 'trader@example.com';
const PASSWORD = 'correct horse battery staple';

describe.skipIf(skipBrowserTests)('the seed journey in a browser (SQLite)', () => {
  let harness: PortalHarness;
  let browser: TestBrowser;
  let page: Page;
  let errors: string[];
  /** The authenticator's seed, as the person read it off the Security page. */
  let totpSecret = '';

  beforeAll(async () => {
    harness = await startPortal('sqlite');
    browser = await launchBrowser(harness.kg.baseUrl);
    page = await browser.context.newPage();
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  /** What the phone shows for the next 30-second step: each code is accepted once, so the server's clock moves on. */
  function nextTotp(): string {
    harness.clock.advance(30_000);
    const totp = new TOTP({ secret: totpSecret, algorithm: 'SHA1', digits: 6, period: 30 });
    return totp.generate({ timestamp: harness.clock.now() });
  }

  /** Reads the newest code mailed to the account after `count` earlier mails. */
  async function mailedCode(count: number): Promise<string> {
    await expect.poll(() => harness.mail.to(EMAIL).length).toBeGreaterThan(count);
    return codeIn(harness.mail.to(EMAIL).at(-1)!);
  }

  /** Fills the Security Verification dialog (screen 4) as a person does, and confirms. */
  async function verify(options: { screenshotAs?: string } = {}) {
    const dialog = page.getByRole('dialog', { name: 'Security Verification' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await expect.poll(() => dialog.getByText(`Email Verification: ${EMAIL}`).isVisible()).toBe(true);
    await expect.poll(() => dialog.getByText(`Google Auth Keygate(No.01): ${EMAIL}`).isVisible()).toBe(true);
    const confirm = dialog.getByRole('button', { name: 'Confirm' });
    expect(await confirm.isDisabled()).toBe(true);

    // A new code may be sent 60 s after the last one: the server's clock moves past the wait.
    harness.clock.advance(61_000);
    const before = harness.mail.to(EMAIL).length;
    await dialog.getByRole('button', { name: 'Send' }).click();
    // The cooldown shows on the button, which stays disabled until it runs out.
    const resend = dialog.getByRole('button', { name: /^Resend \(\d+s\)$/ });
    await expect.poll(() => resend.isVisible()).toBe(true);
    expect(await resend.isDisabled()).toBe(true);
    await dialog.getByLabel(`Email Verification: ${EMAIL}`).fill(await mailedCode(before));

    // The authenticator code goes in with Paste, as from the phone's clipboard.
    const code = nextTotp();
    await writeClipboard(page, code);
    await dialog.getByRole('button', { name: 'Paste' }).click();
    await expect.poll(() => dialog.getByLabel(`Google Auth Keygate(No.01): ${EMAIL}`).inputValue()).toBe(code);

    expect(await confirm.isEnabled()).toBe(true);
    if (options.screenshotAs) await screenshot(page, options.screenshotAs);
    await confirm.click();
  }

  async function openMenuItem(name: string) {
    await page.getByRole('button', { name: 'Profile' }).click();
    await page.getByRole('menuitem', { name }).click();
  }

  function row(name: string) {
    return page.getByRole('row').filter({ has: page.getByText(name, { exact: true }) });
  }

  it('signs up with the code mailed to the address', async () => {
    await page.goto('/');
    await expect.poll(() => page.getByRole('heading', { name: 'Log In' }).isVisible()).toBe(true);
    await screenshot(page, 'login');
    await page.getByRole('main').getByRole('link', { name: 'Sign Up' }).click();

    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByLabel('Email verification code').fill(await mailedCode(0));
    expect(harness.mail.to(EMAIL).at(-1)!.subject).toMatch(/verification code/i);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, 'signup');
    await page.getByRole('button', { name: 'Sign Up' }).click();

    await expect.poll(() => page.getByRole('heading', { name: 'Dashboard' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/dashboard');
  });

  it('shows the profile menu of screen 1: email, UID with copy, and only what Keygate has', async () => {
    await page.getByRole('button', { name: 'Profile' }).click();
    const menu = page.getByRole('menu', { name: 'Account' });
    await expect.poll(() => menu.isVisible()).toBe(true);
    const items = await menu.getByRole('menuitem').allInnerTexts();
    expect(items.map((t) => t.trim())).toEqual(['Dashboard', 'Security', 'My API', 'Activity', 'Log Out']);
    await expect.poll(() => page.getByText(EMAIL, { exact: true }).first().isVisible()).toBe(true);
    const me = (await (await page.request.get('/api/v1/me')).json()) as { uid: string };
    await expect.poll(() => page.getByText(me.uid, { exact: true }).first().isVisible()).toBe(true);
    await page.getByRole('menuitem', { name: 'My API' }).hover();
    await screenshot(page, '1-profile-menu');
    await page.getByRole('button', { name: 'Copy UID' }).first().click();
    expect(await readClipboard(page)).toBe(me.uid);
    await page.keyboard.press('Escape');
    expect(await menu.isVisible()).toBe(false);
  });

  it('binds Google Authenticator from the QR code page, with the secret as text', async () => {
    await openMenuItem('Security');
    await expect.poll(() => page.getByRole('heading', { name: 'Security', exact: true }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Bind' }).click();

    const qr = page.getByRole('img', { name: 'QR code to add Keygate to Google Authenticator' });
    await expect.poll(() => qr.isVisible()).toBe(true);
    expect(await qr.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0)).toBe(true);
    totpSecret = (await page.getByTestId('totp-secret').innerText()).trim();
    expect(totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    await screenshot(page, 'security-bind-authenticator');
    await page.getByRole('button', { name: 'Copy authenticator key' }).click();
    expect(await readClipboard(page)).toBe(totpSecret);

    const totp = new TOTP({ secret: totpSecret, algorithm: 'SHA1', digits: 6, period: 30 });
    await page.getByLabel('Google Authenticator code').fill(totp.generate({ timestamp: harness.clock.now() }));
    // Binding also takes a code mailed to the account.
    const before = harness.mail.to(EMAIL).length;
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByLabel(`Email Verification: ${EMAIL}`).fill(await mailedCode(before));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByText('Google Authenticator is bound.', { exact: false }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText('Bound', { exact: true }).first().isVisible()).toBe(true);
  });

  it('opens My API from the profile menu: the empty table of screen 2', async () => {
    await openMenuItem('My API');
    await expect.poll(() => page.getByRole('heading', { name: 'My API' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/my-api');
    await expect.poll(() => page.getByText('No data').isVisible()).toBe(true);
    const headers = await page.getByRole('columnheader').allInnerTexts();
    expect(headers.map((h) => h.trim())).toEqual(['Name', 'API Key', 'Verification method', 'Authority', 'Remaining valid date', 'Creation Time', 'Last used', 'Action']);
    expect(await page.getByText('Please do not leak the important information, such as your Secret Key and API Key, to avoid asset loss.').isVisible()).toBe(true);
    await screenshot(page, '2-my-api-empty');
  });

  let apiKey = '';
  let secretKey = '';

  it('creates an HmacSHA256 key for 127.0.0.1 with Read and Trade (screens 3, 4 and 5)', async () => {
    await page.getByRole('link', { name: 'Create New API' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Create New API' }).isVisible()).toBe(true);
    const confirm = page.getByRole('button', { name: 'Confirm' });
    expect(await confirm.isDisabled()).toBe(true);

    await page.getByLabel('API Name').fill('MM Bot');
    expect(await page.getByLabel('Verification method').inputValue()).toBe('HmacSHA256');
    await expect
      .poll(() => page.getByText('HmacSHA256 signature is a symmetric scheme with high verification efficiency, only for V2 API').isVisible())
      .toBe(true);
    expect(await page.getByTestId('ip-note').innerText()).toBe('Permanent validity');
    await page.getByLabel('IP Address (Required)').fill('127.0.0.1');

    const read = page.getByRole('checkbox', { name: 'Read only' });
    expect(await read.isChecked()).toBe(true);
    expect(await read.isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: 'Trade' }).check();
    expect(await page.getByRole('checkbox', { name: 'Withdraw' }).isChecked()).toBe(false);
    expect(await confirm.isEnabled()).toBe(true);
    await screenshot(page, '3-create-new-api');
    await confirm.click();

    await verify({ screenshotAs: '4-security-verification' });

    const info = page.getByRole('dialog', { name: 'API information' });
    await expect.poll(() => info.isVisible()).toBe(true);
    expect(await info.getByText('MM Bot', { exact: true }).isVisible()).toBe(true);
    expect(await info.getByText('HmacSHA256', { exact: true }).isVisible()).toBe(true);
    apiKey = (await info.getByTestId('api-key').innerText()).trim();
    secretKey = (await info.getByTestId('secret-key').innerText()).trim();
    expect(apiKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(secretKey).toMatch(/^[0-9A-F]{32}$/);
    for (const tip of [
      'The API information will be shown only once and cannot be recovered after being lost. Please keep it properly.',
      'Please do not leak the important information, such as your Secret Key and API Key, to avoid asset loss.',
      'If you forget the Secret Key, please delete the Key pair and apply for a new one.',
    ]) {
      expect(await info.getByText(tip).isVisible()).toBe(true);
    }
    await screenshot(page, '5-api-information');
    await info.getByRole('button', { name: 'Copy Secret Key' }).click();
    expect(await readClipboard(page)).toBe(secretKey);
    await info.getByRole('button', { name: 'Copy API Key' }).click();
    expect(await readClipboard(page)).toBe(apiKey);
    await info.getByRole('button', { name: 'Confirm' }).click();

    await expect.poll(() => page.getByRole('heading', { name: 'My API' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText('API key "MM Bot" was created.').isVisible()).toBe(true);
    await expect.poll(() => row('MM Bot').isVisible()).toBe(true);
    const cells = (await row('MM Bot').getByRole('cell').allInnerTexts()).map((c) => c.trim());
    expect(cells[0]).toContain('IP: 127.0.0.1');
    expect(cells[1]).toBe(apiKey);
    expect(cells.slice(2, 5)).toEqual(['HmacSHA256', 'Read, Trade', 'Permanent']);
    expect(cells[6]).toBe('Never');
  });

  it('never shows the secret again: not after closing the dialog, not after a reload', async () => {
    expect(await page.content()).not.toContain(secretKey);
    await page.reload();
    await expect.poll(() => row('MM Bot').isVisible()).toBe(true);
    expect(await page.content()).not.toContain(secretKey);
    expect(await page.getByRole('dialog').count()).toBe(0);
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie');
    expect(stored).not.toContain(secretKey);
    const listed = await (await page.request.get('/api/v1/api-keys')).text();
    expect(listed).toContain(apiKey);
    expect(listed).not.toContain(secretKey);
  });

  it('signs requests with the new key through the SDK, and shows when and where it was last used', async () => {
    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: secretKey });
    const restrictions = await client.call<Record<string, unknown>>('supplement/api_Restrictions');
    expect(restrictions).toMatchObject({ ipRestrict: true, enableReading: true, enableSpotTrading: true, enableWithdrawals: false });

    // Last use is recorded within a second or so: reload until the table shows it.
    await expect
      .poll(
        async () => {
          await page.reload();
          return (await row('MM Bot').getByRole('cell').nth(6).innerText()).includes('from 127.0.0.1');
        },
        { timeout: 10_000, interval: 500 },
      )
      .toBe(true);
    await screenshot(page, 'my-api-with-key');
  });

  it('disables the key in one click; enabling it again goes through the Security Verification', async () => {
    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: secretKey });
    await row('MM Bot').getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => row('MM Bot').getByRole('button', { name: 'Enable' }).isVisible()).toBe(true);
    expect(await row('MM Bot').getByText('Disabled', { exact: true }).isVisible()).toBe(true);
    await expect(client.call('supplement/api_Restrictions')).rejects.toMatchObject({ code: 10005 });

    await row('MM Bot').getByRole('button', { name: 'Enable' }).click();
    await verify();
    await expect.poll(() => row('MM Bot').getByRole('button', { name: 'Disable' }).isVisible()).toBe(true);
    await expect(client.call('supplement/api_Restrictions')).resolves.toMatchObject({ enableSpotTrading: true });
  });

  it('edits the key\'s IPs through the Security Verification dialog', async () => {
    await row('MM Bot').getByRole('link', { name: 'Edit' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Edit API' }).isVisible()).toBe(true);
    const ips = page.getByLabel('IP Address (Required)');
    expect(await ips.inputValue()).toBe('127.0.0.1');
    expect(await page.getByLabel('Verification method').isDisabled()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Trade' }).isChecked()).toBe(true);
    const confirm = page.getByRole('button', { name: 'Confirm' });
    // Nothing changed yet: nothing to confirm.
    expect(await confirm.isDisabled()).toBe(true);
    await ips.fill('192.0.2.10');
    await screenshot(page, 'edit-api');
    await confirm.click();
    await verify();

    await expect.poll(() => page.getByText('API key "MM Bot" was saved.').isVisible()).toBe(true);
    await expect.poll(() => row('MM Bot').getByText('IP: 192.0.2.10').isVisible()).toBe(true);
    // 127.0.0.1 is no longer bound: the signed API refuses this client.
    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: secretKey });
    const refused = await client.call('supplement/api_Restrictions').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(LbankApiError);
    expect((refused as LbankApiError).code).toBe(10022);
  });

  it('deletes the key after a confirmation, and the signed API refuses it', async () => {
    await row('MM Bot').getByRole('button', { name: 'Delete' }).click();
    const confirmation = page.getByRole('alertdialog', { name: 'Delete API key' });
    await expect.poll(() => confirmation.isVisible()).toBe(true);
    // Focus starts on Cancel: Enter on a destructive dialog does not destroy.
    expect(await isFocused(confirmation.getByRole('button', { name: 'Cancel' }))).toBe(true);
    await screenshot(page, 'delete-confirmation');
    await confirmation.getByRole('button', { name: 'Delete' }).click();

    await expect.poll(() => page.getByText('No data').isVisible()).toBe(true);
    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: secretKey });
    await expect(client.call('supplement/api_Restrictions')).rejects.toMatchObject({ code: 10005 });
  });

  it('lists what happened on the Activity page', async () => {
    await openMenuItem('Activity');
    await expect.poll(() => page.getByRole('heading', { name: 'Activity' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('cell', { name: 'API key deleted' }).isVisible()).toBe(true);
    for (const event of ['Account created', 'Google Authenticator bound', 'API key created', 'API key edited', 'API key disabled', 'API key enabled']) {
      expect(await page.getByRole('cell', { name: event, exact: true }).count(), event).toBeGreaterThan(0);
    }
    await screenshot(page, 'activity');
  });

  it('logs out, and logs in again with the authenticator code', async () => {
    await openMenuItem('Log Out');
    await expect.poll(() => page.getByRole('heading', { name: 'Log In' }).isVisible()).toBe(true);
    expect((await page.request.get('/api/v1/me')).status()).toBe(401);

    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log In' }).click();
    const code = page.getByLabel('Google Authenticator code');
    await expect.poll(() => code.isVisible()).toBe(true);
    await code.fill(nextTotp());
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Dashboard' }).isVisible()).toBe(true);
    await screenshot(page, 'dashboard');
    expect(errors).toEqual([]);
  });
});
