// Withdrawal rules: the network's minimum and fee, exact amounts, an address to send to.
import { Decimal, parseAmount, LedgerError } from './ledger.js';
import type { Asset, Network } from './markets.js';

export type WithdrawalRule = 'unknown_asset' | 'unknown_network' | 'invalid_amount' | 'below_minimum' | 'fee_mismatch' | 'invalid_address';

export class WithdrawalRuleError extends Error {
  constructor(
    readonly rule: WithdrawalRule,
    message: string,
  ) {
    super(message);
    this.name = 'WithdrawalRuleError';
  }
}

export type WithdrawalStatus = 'applying' | 'completed' | 'rejected' | 'cancelled';

export interface CheckedWithdrawal {
  network: Network;
  amount: Decimal;
  fee: Decimal;
}

/** Checks a withdrawal to an outside address, or an internal transfer (to a Keygate UID: no minimum, no fee). */
export function checkWithdrawal(asset: Asset, networkName: string | undefined, amountText: string, feeText: string | undefined, address: string, internal = false): CheckedWithdrawal {
  const network = networkName ? asset.networks.find((n) => n.name === networkName) : (asset.networks.find((n) => n.isDefault) ?? asset.networks[0]);
  if (!network) throw new WithdrawalRuleError('unknown_network', `${asset.code} cannot be withdrawn on network ${networkName?.slice(0, 32) ?? ''}; networks: ${asset.networks.map((n) => n.name).join(', ')}`);
  let amount: Decimal;
  try {
    amount = parseAmount(amountText, asset.scale);
  } catch (error) {
    throw new WithdrawalRuleError('invalid_amount', error instanceof LedgerError ? error.message : 'invalid amount');
  }
  if (internal) return { network, amount, fee: new Decimal(0) };
  if (amount.lt(network.withdrawMin)) throw new WithdrawalRuleError('below_minimum', `The minimum withdrawal of ${asset.code} on ${network.name} is ${network.withdrawMin}`);
  const fee = new Decimal(network.withdrawFee);
  if (feeText !== undefined && feeText !== '' && !(/^\d+(\.\d+)?$/.test(feeText) && new Decimal(feeText).eq(fee))) {
    throw new WithdrawalRuleError('fee_mismatch', `The withdrawal fee of ${asset.code} on ${network.name} is ${network.withdrawFee}`);
  }
  if (!/^[A-Za-z0-9:._-]{4,128}$/.test(address)) throw new WithdrawalRuleError('invalid_address', 'The address must be 4–128 letters, digits or :._-');
  return { network, amount, fee };
}
