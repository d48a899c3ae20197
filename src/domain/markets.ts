// The spot markets and assets the sandbox exchange lists.
export interface Network {
  /** LBank's chain name, e.g. "erc20", "trc20", "bep20(bsc)". */
  name: string;
  withdrawFee: string;
  withdrawMin: string;
  depositMin: string;
  isDefault: boolean;
}

export interface Asset {
  /** Lower-case asset code as LBank writes it, e.g. "usdt". */
  code: string;
  /** Decimal places amounts of this asset are kept to. */
  scale: number;
  networks: Network[];
}

export interface Market {
  /** LBank's pair id, base_quote in lower case, e.g. "btc_usdt". */
  symbol: string;
  priceAccuracy: number;
  quantityAccuracy: number;
  minTranQua: string;
}

export interface MarketCatalogue {
  assets: Asset[];
  markets: Market[];
}

export function marketAssets(symbol: string): { base: string; quote: string } {
  const [base = '', quote = ''] = symbol.split('_');
  return { base, quote };
}

const net = (name: string, withdrawFee: string, withdrawMin: string, isDefault = false): Network => ({
  name,
  withdrawFee,
  withdrawMin,
  depositMin: '0',
  isDefault,
});

export const DEFAULT_CATALOGUE: MarketCatalogue = {
  assets: [
    { code: 'btc', scale: 8, networks: [net('btc', '0.0005', '0.001', true)] },
    { code: 'eth', scale: 8, networks: [net('erc20', '0.003', '0.01', true)] },
    { code: 'usdt', scale: 6, networks: [net('trc20', '1', '10', true), net('erc20', '5', '20'), net('bep20(bsc)', '0.5', '10')] },
    { code: 'lbk', scale: 4, networks: [net('erc20', '50', '100', true)] },
    { code: 'doge', scale: 4, networks: [net('dogecoin', '10', '50', true)] },
    { code: 'sol', scale: 6, networks: [net('sol', '0.01', '0.1', true)] },
  ],
  markets: [
    { symbol: 'btc_usdt', priceAccuracy: 2, quantityAccuracy: 4, minTranQua: '0.0001' },
    { symbol: 'eth_usdt', priceAccuracy: 2, quantityAccuracy: 4, minTranQua: '0.0001' },
    { symbol: 'eth_btc', priceAccuracy: 6, quantityAccuracy: 4, minTranQua: '0.001' },
    { symbol: 'lbk_usdt', priceAccuracy: 6, quantityAccuracy: 2, minTranQua: '10' },
    { symbol: 'doge_usdt', priceAccuracy: 5, quantityAccuracy: 1, minTranQua: '10' },
    { symbol: 'sol_usdt', priceAccuracy: 3, quantityAccuracy: 3, minTranQua: '0.01' },
  ],
};
