// A stock ccxt pro lbank (only urls.api.rest, contract and ws changed) against one Keygate server's
// WebSocket API over a real socket, on SQLite and PostgreSQL: every watch* and *Ws method the issue names.
import { DATABASE_KINDS } from './support/databases.js';
import { trader } from './support/exchange.js';
import { startKeygate } from './support/server.js';
import { ccxtProSuite } from './support/ws-ccxt-suite.js';

for (const kind of DATABASE_KINDS) {
  ccxtProSuite(`ccxt pro against the WebSocket API on ${kind}`, async () => {
    const keygate = await startKeygate(kind);
    return {
      baseUrl: keygate.baseUrl,
      market: 'btc_usdt',
      trader: async (funds) => trader(keygate, funds),
      stop: () => keygate.stop(),
    };
  });
}
