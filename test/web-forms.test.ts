// The portal's forms in a real browser: the empty state, the validation messages of "Create New API",
// the labels that change with the verification method, the dialogs' behaviour, and the emergency
// "Delete all". Accounts are prepared through the JSON API; the browser takes over their session.
import { generateKeyPairSync } from 'node:crypto';
import { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LbankClient } from '../src/client/index.js';
import { newRsaKeyPair } from '../src/domain/keys.js';
import { insertApiKey } from '../src/storage/api-keys.js';
import { fieldError, focusBehindDialog, isFocused, launchBrowser, screenshot, skipBrowserTests, watchErrors, type TestBrowser } from './support/browser.js';
import type { PortalClient } from './support/portal.js';
import { startPortal, type PortalHarness } from './support/portal-server.js';
import { codeIn } from './support/smtp.js';

const PASSWORD = 'a long and unusual passphrase';

describe.skipIf(skipBrowserTests)('portal forms in a browser (SQLite)', () => {
  let harness: PortalHarness;
  let browser: TestBrowser;
  let page: Page;
  let errors: string[];
  let accounts = 0;

  beforeAll(async () => {
    harness = await startPortal('sqlite');
    browser = await launchBrowser(harness.kg.baseUrl);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
  });

  afterEach(async () => {
    expect(errors).toEqual([]);
    await page.close();
    await browser.context.clearCookies();
  });

  interface Account {
    email: string;
    client: PortalClient;
    totpSecret?: string;
  }

  /** A new account (with Google Authenticator unless told), signed in in a fresh page. */
  async function signedIn(options: { totp?: boolean } = {}): Promise<Account> {
    const email = `person${++accounts}@example.com`;
    const client = await harness.portal.signUp(email, PASSWORD);
    const account: Account = { email, client };
    if (options.totp !== false) account.totpSecret = await harness.portal.bindTotp(client);
    await browser.context.addCookies([{ name: 'keygate_session', value: client.cookie!, url: harness.kg.baseUrl }]);
    page = await browser.context.newPage();
    errors = watchErrors(page);
    return account;
  }

  async function openCreatePage() {
    await page.goto('/my-api/create');
    await expect.poll(() => page.getByRole('heading', { name: 'Create New API' }).isVisible()).toBe(true);
  }

  /** The error text tied to a field (aria-describedby), as a screen reader would announce it. */
  function describedError(label: string): Promise<string> {
    return fieldError(page.getByLabel(label, { exact: true }));
  }

  it('shows the empty state of My API: the columns, "No data", and no Delete all', async () => {
    await signedIn();
    await page.goto('/my-api');
    await expect.poll(() => page.getByText('No data', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('columnheader').count()).toBe(8);
    expect(await page.getByRole('row').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Delete all' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Create New API' }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: /Check API Doc/ }).isVisible()).toBe(true);
  });

  it('says what is wrong with the form, in words, next to the field, and keeps Confirm disabled', async () => {
    await signedIn();
    await openCreatePage();
    const confirm = page.getByRole('button', { name: 'Confirm' });
    expect(await confirm.isDisabled()).toBe(true);

    const name = page.getByLabel('API Name');
    await name.focus();
    await name.blur();
    await expect.poll(() => describedError('API Name')).toBe('Please enter API name.');
    await name.fill('A name far longer than twenty');
    await expect.poll(() => describedError('API Name')).toBe('The API name must be 1 to 20 characters long.');
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await name.fill('MM Bot');
    await expect.poll(() => describedError('API Name')).toBe('');
    expect(await name.getAttribute('aria-invalid')).toBeNull();

    const ips = page.getByLabel('IP Address (Required)');
    await ips.focus();
    await ips.blur();
    await expect.poll(() => describedError('IP Address (Required)')).toBe('IP Address is required for HmacSHA256: enter at least one IP address.');
    const cases: [string, string][] = [
      ['192.168.1.1, 192.168.1.2', 'Separate multiple IP addresses with commas, without spaces (for example: 192.168.1.1,192.168.1.2).'],
      ['192.168.1', '"192.168.1" is not an IPv4 or IPv6 address.'],
      ['10.0.0.1,,10.0.0.2', 'The IP list has an empty entry: separate addresses with single commas (for example: 192.168.1.1,192.168.1.2).'],
      ['10.0.0.1,10.0.0.1', '10.0.0.1 is listed twice.'],
      [Array.from({ length: 21 }, (_, i) => `10.0.0.${i + 1}`).join(','), 'Bind up to 20 IPs per API key; the list has 21.'],
    ];
    for (const [value, message] of cases) {
      await ips.fill(value);
      await expect.poll(() => describedError('IP Address (Required)'), { message: value }).toBe(message);
      // The message is on the page too, not only announced.
      expect(await page.getByText(message, { exact: true }).isVisible()).toBe(true);
      expect(await confirm.isDisabled(), value).toBe(true);
      if (value.includes(' ')) await screenshot(page, 'create-new-api-field-error');
    }

    await ips.fill('192.168.1.1,2001:db8::1');
    await expect.poll(() => describedError('IP Address (Required)')).toBe('');
    expect(await confirm.isEnabled()).toBe(true);

    // Withdraw: the seed says not to enable it, and the page says so loudly.
    await page.getByRole('checkbox', { name: 'Withdraw' }).check();
    const warning = page.getByRole('alert').filter({ hasText: 'Do NOT enable withdrawals' });
    await expect.poll(() => warning.isVisible()).toBe(true);
    await screenshot(page, 'create-new-api-withdraw-warning');
    await page.getByRole('checkbox', { name: 'Withdraw' }).uncheck();
    await expect.poll(() => warning.count()).toBe(0);
    // Transfer moves funds to another account at once: the page says so as loudly.
    await page.getByRole('checkbox', { name: 'Transfer' }).check();
    const transferWarning = page.getByRole('alert').filter({ hasText: 'Do NOT enable transfers' });
    await expect.poll(() => transferWarning.isVisible()).toBe(true);
    expect(await transferWarning.innerText()).toContain('A key with Transfer must be bound to IP addresses.');
    await page.getByRole('checkbox', { name: 'Transfer' }).uncheck();
    await expect.poll(() => transferWarning.count()).toBe(0);

    // Read only cannot be turned off.
    const read = page.getByRole('checkbox', { name: 'Read only' });
    expect(await read.isChecked()).toBe(true);
    expect(await read.isDisabled()).toBe(true);
  });

  it('switches the IP label and its red note with the verification method, as the seed shows', async () => {
    await signedIn();
    await openCreatePage();
    expect(await page.getByTestId('ip-note').innerText()).toBe('Permanent validity');
    expect(await page.getByText('HmacSHA256 signature is a symmetric scheme with high verification efficiency, only for V2 API').isVisible()).toBe(true);
    expect(await page.getByText('Use my own RSA public key').count()).toBe(0);

    await page.getByLabel('Verification method').selectOption('RSA');
    await expect.poll(() => page.getByLabel('IP Address (Optional)').isVisible()).toBe(true);
    expect(await page.getByLabel('IP Address (Required)').count()).toBe(0);
    expect(await page.getByTestId('ip-note').innerText()).toBe("For the users who haven't bind IP address, the transaction API is valid for 30 days");
    expect(await page.getByText('RSA signature is an asymmetric scheme with high security').isVisible()).toBe(true);
    expect(await page.getByLabel('IP Address (Optional)').getAttribute('placeholder')).toBe('Bind up to 20 IPs, separate multiple IP addresses with commas.');
    await screenshot(page, 'create-new-api-rsa');

    // Without IPs an RSA key is allowed...
    await page.getByLabel('API Name').fill('Signer');
    const confirm = page.getByRole('button', { name: 'Confirm' });
    expect(await confirm.isEnabled()).toBe(true);
    // ...but not with Withdraw.
    await page.getByRole('checkbox', { name: 'Withdraw' }).check();
    await expect.poll(() => describedError('IP Address (Optional)')).toBe('Withdraw authority needs at least one IP address bound to the key.');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: 'Withdraw' }).uncheck();
    expect(await confirm.isEnabled()).toBe(true);
    // ...nor with Transfer.
    await page.getByRole('checkbox', { name: 'Transfer' }).check();
    await expect.poll(() => describedError('IP Address (Optional)')).toBe('Transfer authority needs at least one IP address bound to the key.');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: 'Transfer' }).uncheck();
    expect(await confirm.isEnabled()).toBe(true);

    // Beyond LBank: bring your own public key.
    await page.getByRole('checkbox', { name: 'Use my own RSA public key' }).check();
    const publicKey = page.getByLabel('RSA public key', { exact: true });
    expect(await publicKey.isVisible()).toBe(true);
    expect(await confirm.isDisabled()).toBe(true);
    await publicKey.fill('not a key!');
    await publicKey.blur();
    await expect.poll(() => describedError('RSA public key')).toBe('The key must be a PEM public key or base64 SPKI; it has characters that are neither.');

    await page.getByLabel('Verification method').selectOption('HmacSHA256');
    await expect.poll(() => page.getByLabel('IP Address (Required)').isVisible()).toBe(true);
    expect(await page.getByTestId('ip-note').innerText()).toBe('Permanent validity');
    expect(await page.getByLabel('RSA public key', { exact: true }).count()).toBe(0);
  });

  it('opens a key stored with Transfer and no IPs with the reason it cannot be saved as it is', async () => {
    const account = await signedIn();
    const user = (await harness.kg.app.accounts.findByEmail(account.email))!;
    const apiKey = crypto.randomUUID();
    // Stored before Transfer needed IPs: written straight into the database.
    await insertApiKey(harness.kg.app.database.db, {
      apiKey, userId: user.id, name: 'legacy', method: 'RSA', ips: [], authority: ['read', 'transfer'], secretSealed: null,
      publicKey: newRsaKeyPair().publicKey, status: 'enabled', createdAt: harness.clock.now(),
    });
    await page.goto(`/my-api/edit/${apiKey}`);
    await expect.poll(() => page.getByRole('heading', { name: 'Edit API' }).isVisible()).toBe(true);
    await expect.poll(() => describedError('IP Address (Optional)')).toBe('Transfer authority needs at least one IP address bound to the key.');
    const confirm = page.getByRole('button', { name: 'Confirm' });
    await page.getByLabel('API Name').fill('renamed');
    expect(await confirm.isDisabled()).toBe(true);
    // Either remedy makes it savable: bind an IP, or give up Transfer.
    await page.getByLabel('IP Address (Optional)').fill('192.0.2.7');
    await expect.poll(() => confirm.isEnabled()).toBe(true);
    await page.getByLabel('IP Address (Optional)').fill('');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: 'Transfer' }).uncheck();
    await expect.poll(() => confirm.isEnabled()).toBe(true);
  });

  it('creates an RSA key without IPs: 30 days of trading authority, and the private key shown once', async () => {
    const account = await signedIn();
    await openCreatePage();
    await page.getByLabel('API Name').fill('Signer');
    await page.getByLabel('Verification method').selectOption('RSA');
    await page.getByRole('checkbox', { name: 'Trade' }).check();
    await page.getByRole('button', { name: 'Confirm' }).click();

    const dialog = page.getByRole('dialog', { name: 'Security Verification' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // Focus starts in the dialog, on the email code.
    expect(await isFocused(dialog.getByLabel(`Email Verification: ${account.email}`))).toBe(true);
    harness.clock.advance(61_000);
    const mails = harness.mail.to(account.email).length;
    await dialog.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => harness.mail.to(account.email).length).toBe(mails + 1);
    await dialog.getByLabel(`Email Verification: ${account.email}`).fill(codeIn(harness.mail.to(account.email).at(-1)!));
    harness.clock.advance(30_000);
    const totp = new TOTP({ secret: account.totpSecret!, algorithm: 'SHA1', digits: 6, period: 30 });
    await dialog.getByLabel(`Google Auth Keygate(No.01): ${account.email}`).fill(totp.generate({ timestamp: harness.clock.now() }));
    await dialog.getByRole('button', { name: 'Confirm' }).click();

    const info = page.getByRole('dialog', { name: 'API information' });
    await expect.poll(() => info.isVisible()).toBe(true);
    expect(await info.getByText('RSA', { exact: true }).isVisible()).toBe(true);
    const apiKey = (await info.getByTestId('api-key').innerText()).trim();
    const privateKey = (await info.getByTestId('secret-key').innerText()).trim();
    expect(privateKey).toMatch(/^MII[A-Za-z0-9+/=]{1000,}$/);
    // Escape closes it like Confirm: the key is then only in the table, without its secret.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('heading', { name: 'My API' }).isVisible()).toBe(true);
    const row = page.getByRole('row').filter({ hasText: 'Signer' });
    await expect.poll(() => row.isVisible()).toBe(true);
    expect(await row.getByText('No IP binding').isVisible()).toBe(true);
    expect(await row.getByRole('cell', { name: '30 days', exact: true }).isVisible()).toBe(true);
    expect(await page.content()).not.toContain(privateKey.slice(0, 200));

    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: privateKey });
    expect(client.method).toBe('RSA');
    await expect(client.call('supplement/api_Restrictions')).resolves.toMatchObject({ ipRestrict: false, enableSpotTrading: true });
  });

  it('shows the server\'s refusal of a wrong code under its field; Escape closes the dialog and focus returns', async () => {
    const account = await signedIn();
    await openCreatePage();
    await page.getByLabel('API Name').fill('MM Bot');
    await page.getByLabel('IP Address (Required)').fill('127.0.0.1');
    const confirm = page.getByRole('button', { name: 'Confirm' });
    await confirm.click();
    const dialog = page.getByRole('dialog', { name: 'Security Verification' });
    await expect.poll(() => dialog.isVisible()).toBe(true);

    harness.clock.advance(61_000);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => dialog.getByText(`A verification code was sent to ${account.email}.`).isVisible()).toBe(true);
    const mailed = codeIn(await harness.mail.waitFor(account.email, (m) => /create an API key/.test(m.subject)));
    const wrong = mailed === '000000' ? '111111' : '000000';
    const emailField = dialog.getByLabel(`Email Verification: ${account.email}`);
    await emailField.fill(wrong);
    harness.clock.advance(30_000);
    const totp = new TOTP({ secret: account.totpSecret!, algorithm: 'SHA1', digits: 6, period: 30 });
    await dialog.getByLabel(`Google Auth Keygate(No.01): ${account.email}`).fill(totp.generate({ timestamp: harness.clock.now() }));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => dialog.getByText(/The email verification code is incorrect/).isVisible()).toBe(true);
    expect(await emailField.getAttribute('aria-invalid')).toBe('true');

    // The help under the dialog opens and closes.
    const help = dialog.getByRole('button', { name: "Didn't receive the verification email?" });
    expect(await help.getAttribute('aria-expanded')).toBe('false');
    await help.click();
    expect(await help.getAttribute('aria-expanded')).toBe('true');
    expect(await dialog.getByText(/valid for 10 minutes/).isVisible()).toBe(true);

    // The page behind is inert while the dialog is open: Tab never reaches it.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await focusBehindDialog(page), `after ${i + 1} Tab presses`).toBe(false);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await isFocused(confirm)).toBe(true);
    // The form is as it was.
    expect(await page.getByLabel('API Name').inputValue()).toBe('MM Bot');
    expect(((await (await page.request.get('/api/v1/api-keys')).json()) as { keys: unknown[] }).keys).toEqual([]);
  });

  it('asks to bind Google Authenticator before a key can be created', async () => {
    await signedIn({ totp: false });
    await openCreatePage();
    const note = page.getByRole('note').filter({ hasText: 'Creating and editing API keys needs Google Authenticator.' });
    expect(await note.isVisible()).toBe(true);
    await page.getByLabel('API Name').fill('MM Bot');
    await page.getByLabel('IP Address (Required)').fill('127.0.0.1');
    expect(await page.getByRole('button', { name: 'Confirm' }).isDisabled()).toBe(true);
    await note.getByRole('link', { name: 'Bind Google Authenticator' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Security', exact: true }).isVisible()).toBe(true);
  });

  it('sends a signed-out visitor to Log In and back to the page they asked for', async () => {
    const email = `person${++accounts}@example.com`;
    const client = await harness.portal.signUp(email, PASSWORD);
    const secret = await harness.portal.bindTotp(client);
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await page.goto('/my-api/create');
    await expect.poll(() => page.getByRole('heading', { name: 'Log In' }).isVisible()).toBe(true);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('not the password at all');
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: /incorrect|invalid|wrong/i }).isVisible()).toBe(true);

    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log In' }).click();
    await page.getByLabel('Google Authenticator code').fill(harness.portal.nextTotp(secret));
    await page.getByRole('button', { name: 'Log In' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Create New API' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/my-api/create');
  });

  /** Passes the Security Verification dialog with a mailed code and the next authenticator code. */
  async function passVerification(account: Account) {
    const dialog = page.getByRole('dialog', { name: 'Security Verification' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    harness.clock.advance(61_000);
    const mails = harness.mail.to(account.email).length;
    await dialog.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => harness.mail.to(account.email).length).toBe(mails + 1);
    await dialog.getByLabel(`Email Verification: ${account.email}`).fill(codeIn(harness.mail.to(account.email).at(-1)!));
    await dialog.getByLabel(`Google Auth Keygate(No.01): ${account.email}`).fill(harness.portal.nextTotp(account.totpSecret!));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
  }

  it('creates an RSA key from the user\'s own public key: no secret is shown, and their private key signs', async () => {
    const account = await signedIn();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await openCreatePage();
    await page.getByLabel('API Name').fill('Own key');
    await page.getByLabel('Verification method').selectOption('RSA');
    await page.getByLabel('IP Address (Optional)').fill('127.0.0.1');
    await page.getByRole('checkbox', { name: 'Use my own RSA public key' }).check();
    await page.getByLabel('RSA public key', { exact: true }).fill(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await passVerification(account);

    const info = page.getByRole('dialog', { name: 'API information' });
    await expect.poll(() => info.isVisible()).toBe(true);
    expect(await info.getByText('Your own RSA private key: Keygate holds only the public key you gave it.').isVisible()).toBe(true);
    expect(await info.getByTestId('secret-key').count()).toBe(0);
    const apiKey = (await info.getByTestId('api-key').innerText()).trim();
    await info.getByRole('button', { name: 'Confirm' }).click();

    const client = new LbankClient({ baseUrl: harness.kg.baseUrl, apiKey, secret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), method: 'RSA' });
    await expect(client.call('supplement/api_Restrictions')).resolves.toMatchObject({ ipRestrict: true });
  });

  it('unbinds Google Authenticator with an email code and a current authenticator code', async () => {
    const account = await signedIn();
    await page.goto('/security');
    await expect.poll(() => page.getByText('Bound', { exact: true }).first().isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Unbind' }).click();
    await passVerification(account);
    await expect.poll(() => page.getByText('Google Authenticator was unbound.', { exact: false }).isVisible()).toBe(true);
    expect(await page.getByText('Not bound', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Bind' }).isVisible()).toBe(true);
    expect(((await (await page.request.get('/api/v1/me')).json()) as { totpBound: boolean }).totpBound).toBe(false);
  });

  it('deletes every key at once with "Delete all", after a confirmation', async () => {
    const account = await signedIn();
    const created = [];
    for (const name of ['Bot A', 'Bot B']) {
      created.push(
        await harness.portal.createKey(account.client, account.email, account.totpSecret!, { name, method: 'HmacSHA256', ips: '127.0.0.1', authority: ['read'] }),
      );
    }
    await page.goto('/my-api');
    await expect.poll(() => page.getByRole('row').count()).toBe(3);
    await page.getByRole('button', { name: 'Delete all' }).click();
    const confirmation = page.getByRole('alertdialog', { name: 'Delete all API keys' });
    await expect.poll(() => confirmation.isVisible()).toBe(true);
    expect(await confirmation.getByText('Delete all 2 API keys of this account at once?', { exact: false }).isVisible()).toBe(true);
    // Cancel leaves them.
    await confirmation.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByRole('row').count()).toBe(3);

    await page.getByRole('button', { name: 'Delete all' }).click();
    await confirmation.getByRole('button', { name: 'Delete all' }).click();
    await expect.poll(() => page.getByText('No data', { exact: true }).isVisible()).toBe(true);
    for (const key of created as { apiKey: string; secretKey: string }[]) {
      expect(((await harness.portal.signed(key)) as { error_code: number }).error_code).toBe(10005);
    }
  });

  it('links the API Doc page to the OpenAPI description of the portal API', async () => {
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await page.goto('/api-doc');
    const link = page.getByRole('link', { name: '/api/v1/openapi.json' });
    await expect.poll(() => link.isVisible()).toBe(true);
    const href = await link.getAttribute('href');
    const response = await page.request.get(href!);
    expect(response.status()).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toMatch(/^3\.1\./);
  });
});
