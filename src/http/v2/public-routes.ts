// Public v2 endpoints (no signature) and the contract API's instrument list, which is empty:
// Keygate has no perpetual markets, and a stock ccxt loadMarkets() asks for them.
import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.js';
import { success } from './envelope.js';
import { requestParams } from './params.js';

export function registerPublicRoutes(server: FastifyInstance, app: App): void {
  const { markets, assets } = app.config.markets;

  server.get('/v2/timestamp.do', async () => {
    const now = app.now();
    return success(now, now);
  });

  const ping = async () => success({}, app.now());
  server.get('/v2/supplement/system_ping.do', ping);
  server.post('/v2/supplement/system_ping.do', ping);

  server.get('/v2/currencyPairs.do', async () => success(markets.map((m) => m.symbol), app.now()));

  server.get('/v2/accuracy.do', async () =>
    success(
      markets.map((m) => ({
        symbol: m.symbol,
        quantityAccuracy: String(m.quantityAccuracy),
        minTranQua: m.minTranQua,
        priceAccuracy: String(m.priceAccuracy),
      })),
      app.now(),
    ),
  );

  server.get('/v2/withdrawConfigs.do', async (request) => {
    const only = requestParams(request).assetCode?.toLowerCase();
    const rows = assets
      .filter((a) => only === undefined || a.code === only)
      .flatMap((a) =>
        a.networks.map((n) => ({
          amountScale: String(a.scale),
          chain: n.name,
          assetCode: a.code,
          min: n.withdrawMin,
          transferAmtScale: String(a.scale),
          canWithDraw: true,
          fee: n.withdrawFee,
          minTransfer: n.depositMin,
          type: '1',
        })),
      );
    return success(rows, app.now());
  });

  const contractEnvelope = (data: unknown) => ({ data, error_code: 0, msg: 'Success', result: 'true', success: true });
  server.get('/cfd/openApi/v1/pub/instrument', async () => contractEnvelope([]));
  server.get('/cfd/openApi/v1/pub/getTime', async () => contractEnvelope(app.now()));
}
