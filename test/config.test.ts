import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function errorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, databaseUrl: undefined, masterKey: undefined, recvWindowMs: 5000, trustProxy: [] });
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.markets.markets.map((m) => m.symbol)).toEqual(expect.arrayContaining(['btc_usdt', 'eth_usdt', 'eth_btc']));
    expect(config.ws).toEqual({
      pushIntervalMs: 25,
      tickIntervalMs: 1000,
      pingIntervalMs: 30_000,
      pongTimeoutMs: 60_000,
      maxFrameBytes: 4096,
      maxSubscriptions: 100,
      maxSocketsPerIp: 50,
      maxBufferedBytes: 4 * 1024 * 1024,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KEYGATE_RECV_WINDOW_MS: '-1' }, 'KEYGATE_RECV_WINDOW_MS'],
    [{ KEYGATE_MASTER_KEY: 'c2hvcnQ=' }, 'KEYGATE_MASTER_KEY'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ KEYGATE_TRUST_PROXY: '10.0.0.1,proxy.local' }, 'KEYGATE_TRUST_PROXY'],
    [{ KEYGATE_MARKETS: '/nonexistent/markets.json' }, 'KEYGATE_MARKETS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KEYGATE_WS_PING_INTERVAL_MS: '31000' }, 'KEYGATE_WS_PING_INTERVAL_MS'],
    [{ KEYGATE_WS_MAX_SOCKETS_PER_IP: '0' }, 'KEYGATE_WS_MAX_SOCKETS_PER_IP'],
    [{ KEYGATE_WS_MAX_BUFFERED_BYTES: 'lots' }, 'KEYGATE_WS_MAX_BUFFERED_BYTES'],
  ])('refuses %o, naming %s', (env, variable) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('reads a markets file and checks that its markets use listed assets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        assets: [
          { code: 'abc', scale: 4, networks: [{ name: 'erc20', withdrawFee: '1', withdrawMin: '2' }] },
          { code: 'usdt', scale: 6, networks: [{ name: 'trc20', withdrawFee: '1', withdrawMin: '10' }] },
        ],
        markets: [{ symbol: 'abc_usdt', priceAccuracy: 4, quantityAccuracy: 2, minTranQua: '1' }],
      }),
    );
    expect(loadConfig({ KEYGATE_MARKETS: good }).markets.markets).toHaveLength(1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ assets: [{ code: 'abc', scale: 4, networks: [{ name: 'x', withdrawFee: '1', withdrawMin: '1' }] }], markets: [{ symbol: 'abc_xyz', priceAccuracy: 1, quantityAccuracy: 1, minTranQua: '1' }] }));
    expect(errorOf({ KEYGATE_MARKETS: bad }).message).toContain('xyz');
  });
});
