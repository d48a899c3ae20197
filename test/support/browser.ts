// A real browser for the portal tests: Debian's Chromium driven by playwright-core (never a downloaded
// browser). Where Chromium is missing, the browser suites are skipped with a message on a developer's
// machine and fail in CI (CI=true), where .ci/run installs it.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** The viewport of the screenshots: the seed's 16:9. */
export const VIEWPORT = { width: 1440, height: 810 };

function decideSkip(): boolean {
  if (existsSync(CHROMIUM_PATH)) return false;
  if (process.env.CI === 'true') return false; // launching fails below, and says why
  console.warn(`Browser tests skipped: ${CHROMIUM_PATH} is missing. Install Debian's chromium package (apt-get install chromium) to run them.`);
  return true;
}

/** True when the browser suites cannot run here (and this is not CI). */
export const skipBrowserTests = decideSkip();

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium on a fresh profile directory. */
export async function launchBrowser(baseUrl: string): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: the browser tests need Debian's chromium package (CI installs it in .ci/run).`);
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'keygate-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: VIEWPORT,
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme: 'dark',
    reducedMotion: 'reduce',
    baseURL: baseUrl,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  context.setDefaultTimeout(10_000);
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Collects the page's console errors and uncaught exceptions, so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A refused request (401 before login, a 4xx the page shows in words) is logged by Chromium as a
    // resource error; those are expected, everything else is not.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * Saves a screenshot to docs/screenshots/<name>.png when KEYGATE_SCREENSHOTS=1 (`npm run screenshots`),
 * so that an ordinary test run does not rewrite the pictures in the repository.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.KEYGATE_SCREENSHOTS !== '1') return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Let the caret stop blinking and copy feedback fade from the picture.
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' });
}

// Helpers that run in the page. The test programs are typed without the DOM library, so what runs in
// the browser is written as an expression or typed structurally.

export async function readClipboard(page: Page): Promise<string> {
  return page.evaluate<string>('navigator.clipboard.readText()');
}

export async function writeClipboard(page: Page, text: string): Promise<void> {
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
}

/** Whether the element has the keyboard focus. */
export async function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((element: { ownerDocument: { activeElement: unknown } }) => element === element.ownerDocument.activeElement);
}

/**
 * Whether an element of the page behind an open modal dialog has the focus. (Tab past a modal
 * dialog's last control goes to the browser's own controls, which leaves the focus on the body.)
 */
export async function focusBehindDialog(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(
    'document.activeElement !== null && document.activeElement !== document.body && document.activeElement.closest("dialog[open]") === null',
  );
}

/** The error message tied to a field through aria-describedby, as a screen reader announces it. */
export async function fieldError(field: Locator): Promise<string> {
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
  const texts: string[] = [];
  for (const id of ids) {
    const error = field.page().locator(`[id="${id}"].field-error`);
    if ((await error.count()) > 0) texts.push((await error.textContent()) ?? '');
  }
  return texts.join(' ');
}
