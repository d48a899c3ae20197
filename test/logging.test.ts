// Logs: human-readable in a terminal, JSON lines otherwise — chosen from the stream, checked on the
// choice itself, on the pretty transport writing for real, and on `bin/keygate serve` as a separate
// process with its stdout a pipe and with it a pseudo-terminal (util-linux's script(1)).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loggerOptions, logFormatFor } from '../src/logging.js';
import { TEST_MASTER_KEY } from './support/server.js';

const BIN = new URL('../bin/keygate', import.meta.url).pathname;
const SCRIPT = '/usr/bin/script';
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-logging-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `serve` until it says where it serves, then stops it; returns what it wrote to stdout. */
async function serveOutput(command: string, args: string[]): Promise<string> {
  if (!existsSync(new URL('../dist/src/cli/main.js', import.meta.url))) throw new Error('dist/ is missing: run `npm test`, which builds first');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', KEYGATE_DATA_DIR: tempDir(), KEYGATE_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  // stdin stays open: script(1) ends the session when its input ends.
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await expect.poll(() => output, { timeout: 20_000, interval: 100 }).toMatch(/Keygate serves on http:\/\/127\.0\.0\.1:\d+/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return output;
}

describe('log format', () => {
  it('is pretty (through pino-pretty) for a terminal, JSON for anything else', () => {
    expect(logFormatFor({ isTTY: true })).toBe('pretty');
    expect(logFormatFor({ isTTY: false })).toBe('json');
    expect(logFormatFor({})).toBe('json');
    expect(loggerOptions('info', logFormatFor({ isTTY: true })).transport).toMatchObject({ target: 'pino-pretty', options: { destination: 1 } });
    expect(loggerOptions('warn', logFormatFor({ isTTY: true }), 2).transport).toMatchObject({ options: { destination: 2 } });
    expect(loggerOptions('info', logFormatFor({ isTTY: false }))).toEqual({ level: 'info' });
  });

  it('writes human-readable lines through the pretty transport', async () => {
    const file = join(tempDir(), 'pretty.log');
    const logger = pino(loggerOptions('info', 'pretty', file));
    logger.info({ market: 'btc_usdt' }, 'engine started');
    await expect.poll(() => (existsSync(file) ? readFileSync(file, 'utf8') : ''), { timeout: 10_000 }).toContain('engine started');
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: engine started\n\s+market: "btc_usdt"\n/);
    expect(() => JSON.parse(text.split('\n')[0]!) as unknown).toThrow();
  });

  it('`serve` logs JSON lines when its stdout is a pipe', async () => {
    const output = await serveOutput(BIN, ['serve']);
    const lines = output.split('\n').filter(Boolean);
    const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(records.some((r) => r.level === 30 && /^Keygate serves on /.test(r.msg))).toBe(true);
  });

  it.skipIf(!existsSync(SCRIPT))('`serve` logs human-readable lines when its stdout is a terminal', async () => {
    const output = await serveOutput(SCRIPT, ['-qfec', `${BIN} serve`, '/dev/null']);
    // eslint-disable-next-line no-control-regex
    const plain = output.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Keygate serves on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(plain).not.toContain('"level"');
  });
});
