// bin/keygate: the server, the administrator's commands, and tools for client authors.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { createApp, type App } from '../app.js';
import { LbankClient, LbankApiError } from '../client/index.js';
import { loadConfig, ConfigError, parseMasterKey, startupWarnings } from '../config.js';
import { AUTHORITIES, KeyRuleError, rsaPrivateKeyObject } from '../domain/keys.js';
import { LedgerError } from '../domain/ledger.js';
import { auditRestrictions } from '../domain/key-audit.js';
import { isSignatureMethod, signParams } from '../domain/signing.js';
import { buildHttpServer } from '../http/server.js';
import { createLogger } from '../logging.js';
import { AccountError } from '../services/accounts.js';
import { ExchangeError } from '../services/exchange.js';
import { UnknownAssetError } from '../services/ledger.js';
import { WithdrawalError } from '../services/withdrawals.js';
import type { KindStatus, MasterKeyStatus } from '../services/master-key.js';
import type { SealedKind } from '../storage/sealed-values.js';

class CliError extends Error {}

interface JsonOption {
  json?: boolean;
}

/**
 * A secret given on the command line (where `ps` and the shell's history see it), or read from a file,
 * `-` meaning standard input. One trailing newline is dropped: what `echo` or an editor leaves.
 */
function secretOption(name: string, inline: string | undefined, file: string | undefined): string | undefined {
  if (inline !== undefined && file !== undefined) throw new CliError(`Give --${name} or --${name}-file, not both`);
  if (file === undefined) return inline;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`--${name}-file: cannot read ${file === '-' ? 'standard input' : file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return text.replace(/\r?\n$/, '');
}

const VISIBLE = 'visible to other users in `ps` and kept in shell history: prefer';

function print(options: JsonOption, data: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

/** Runs an admin command against the configured database, quietly (warnings go to stderr). */
async function withApp<T>(run: (app: App) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const app = await createApp(config, { logger: createLogger('warn', 2), exchange: false });
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

async function userIdByEmail(app: App, email: string): Promise<number> {
  const user = await app.accounts.findByEmail(email);
  if (!user) throw new CliError(`No account with email ${email}`);
  return user.id;
}

interface NewKeyOptions {
  newKeyFile?: string;
  newKeyEnv?: string;
}

/** The new master key from a file ("-": standard input) or an environment variable; never echoed. */
function newMasterKey(options: NewKeyOptions, required: boolean): Buffer | undefined {
  if (options.newKeyFile !== undefined && options.newKeyEnv !== undefined) throw new CliError('Give the new key once: --new-key-file or --new-key-env, not both');
  let text: string | undefined;
  let source: string;
  if (options.newKeyFile !== undefined) {
    source = options.newKeyFile === '-' ? 'standard input' : `--new-key-file ${options.newKeyFile}`;
    try {
      text = readFileSync(options.newKeyFile === '-' ? 0 : options.newKeyFile, 'utf8');
    } catch (error) {
      throw new CliError(`Cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else if (options.newKeyEnv !== undefined) {
    source = `--new-key-env ${options.newKeyEnv}`;
    text = process.env[options.newKeyEnv];
    if (!text) throw new CliError(`${source}: the variable is not set`);
  } else {
    if (required) throw new CliError('Give the new master key: --new-key-file FILE (- for standard input) or --new-key-env VARIABLE');
    return undefined;
  }
  const key = parseMasterKey(text);
  if (!key) throw new CliError(`${source} does not hold a master key: the base64 encoding of exactly 32 bytes (e.g. \`openssl rand -base64 32\`)`);
  return key;
}

const KIND_NAMES: Record<SealedKind, string> = { api_key_secret: 'API key secrets (HmacSHA256)', totp_seed: 'authenticator seeds (TOTP)' };

function describeKind(kind: SealedKind, status: KindStatus, keyId: string): string {
  const others = status.others.map((o) => `${o.count} under ${o.keyId}${o.opens ? '' : ' (which no key given opens)'}`).join(', ');
  return `${`${KIND_NAMES[kind]}:`.padEnd(32)} ${status.total} stored, ${status.current} under ${keyId}, ${status.remaining} under other keys${others ? `: ${others}` : ''}`;
}

function describeStatus(status: MasterKeyStatus): string {
  return [
    `Master key ${status.keyId}`,
    ...Object.entries(status.kinds).map(([kind, s]) => describeKind(kind as SealedKind, s, status.keyId)),
    status.remaining === 0 ? 'Nothing remains under another key.' : `${status.remaining} value(s) remain under another key.`,
  ].join('\n');
}

function date(ms: number | null): string {
  return ms === null ? 'permanent' : new Date(ms).toISOString();
}

export function buildProgram(): Command {
  const program = new Command('keygate')
    .description('Keygate: an LBank v2–compatible API-key system and sandbox exchange')
    .showHelpAfterError();

  program
    .command('serve')
    .description('serve the portal and the signed API (configuration from the environment)')
    .action(async () => {
      const config = loadConfig();
      const app = await createApp(config);
      for (const warning of startupWarnings(config)) app.logger.warn(warning);
      app.logger.info({ serverId: app.exchange.leases.serverId, markets: app.exchange.leases.held }, 'Markets whose engines run on this server (any server takes orders for every market)');
      const server = buildHttpServer(app);
      let stopping = false;
      // Draining: /readyz fails at once so that a load balancer sends no more, requests keep being
      // served for KEYGATE_DRAIN_SECONDS, then the listener closes, requests in flight finish, last-use
      // stamps are flushed and the database and Redis connections close (which hands markets over).
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        app.draining = true;
        app.logger.info({ signal, drainSeconds: config.drainMs / 1000 }, 'Stopping: draining');
        await new Promise((resume) => setTimeout(resume, config.drainMs));
        await server.close();
        await app.close();
        app.logger.info('Stopped');
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      await server.listen({ port: config.port, host: config.host });
      // Key warnings and sweeping of expired sessions and codes; stopped by app.close().
      app.jobs.start(config.jobIntervalMs);
      app.logger.info(`Keygate serves on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(server.server.address() as { port: number }).port}`);
    });

  const admin = program.command('admin').description('administer accounts, keys and balances in the configured database');

  const user = admin.command('user').description('accounts');
  user
    .command('create')
    .requiredOption('--email <email>')
    .option('--password <password>', `at least 10 characters (${VISIBLE} --password-file); omit both for an account that cannot log in to the portal`)
    .option('--password-file <file>', 'read the password from a file, or from standard input with -')
    .option('--json', 'print JSON')
    .action(async (options: { email: string; password?: string; passwordFile?: string } & JsonOption) => {
      const password = secretOption('password', options.password, options.passwordFile);
      const created = await withApp((app) => app.accounts.create(options.email, password));
      print(options, { uid: created.uid, email: created.email, createdAt: created.createdAt }, `Created account ${created.email} (UID ${created.uid})`);
    });

  const key = admin.command('key').description('API keys');
  key
    .command('create')
    .requiredOption('--email <email>', 'the owner')
    .requiredOption('--name <name>', 'API name, 1–20 characters')
    .addOption(new Option('--method <method>', 'verification method').choices(['HmacSHA256', 'RSA']).makeOptionMandatory())
    .option('--ips <list>', 'IP whitelist, comma-separated without spaces', '')
    .option('--authority <list>', `comma-separated: ${AUTHORITIES.join(',')}`, 'read')
    .option('--public-key <file>', 'RSA only: your own public key (PEM or base64 SPKI); no private key is generated')
    .option('--json', 'print JSON')
    .action(async (options: { email: string; name: string; method: string; ips: string; authority: string; publicKey?: string } & JsonOption) => {
      const publicKey = options.publicKey ? readFileSync(options.publicKey, 'utf8') : undefined;
      const created = await withApp(async (app) =>
        app.apiKeys.create(await userIdByEmail(app, options.email), {
          name: options.name,
          method: options.method,
          ips: options.ips,
          authority: options.authority.split(',').filter(Boolean),
          publicKey,
        }),
      );
      const { key: view, secret } = created;
      const lines = [
        `API Name:            ${view.name}`,
        `Verification method: ${view.method}`,
        `API Key:             ${view.apiKey}`,
      ];
      if (secret !== null) lines.push(`Secret Key:          ${secret}`);
      lines.push(
        `Authority:           ${view.authority.join(', ')}`,
        `IP whitelist:        ${view.ips.join(',') || '(none)'}`,
        `Remaining valid:     ${date(view.authorityExpiresAt)}`,
        '',
        secret !== null
          ? 'The secret is shown only this once and cannot be recovered. If you lose it, delete the key pair and create a new one.'
          : 'Sign with the private key that belongs to the public key you supplied.',
      );
      print(options, { ...view, secret }, lines.join('\n'));
    });

  key
    .command('list')
    .requiredOption('--email <email>')
    .option('--json', 'print JSON')
    .action(async (options: { email: string } & JsonOption) => {
      const keys = await withApp(async (app) => app.apiKeys.list(await userIdByEmail(app, options.email)));
      const text = keys.length
        ? keys
            .map((k) =>
              [k.apiKey, k.name, k.method, k.authority.join(','), k.status, `valid: ${date(k.authorityExpiresAt)}`, `ips: ${k.ips.join(',') || '-'}`, `last used: ${k.lastUsedAt ? `${date(k.lastUsedAt)} from ${k.lastUsedIp}` : 'never'}`].join('  '),
            )
            .join('\n')
        : 'No data';
      print(options, keys, text);
    });

  for (const action of ['disable', 'enable', 'delete'] as const) {
    key
      .command(action)
      .requiredOption('--api-key <key>')
      .option('--json', 'print JSON')
      .action(async (options: { apiKey: string } & JsonOption) => {
        const changed = await withApp((app) =>
          action === 'delete' ? app.apiKeys.delete(options.apiKey) : app.apiKeys.setStatus(options.apiKey, action === 'enable' ? 'enabled' : 'disabled'),
        );
        if (!changed) throw new CliError(`No API key ${options.apiKey}`);
        print(options, { apiKey: options.apiKey, status: action === 'delete' ? 'deleted' : `${action}d` }, `API key ${options.apiKey} ${action}d`);
      });
  }

  admin
    .command('balance')
    .description('balances')
    .command('credit')
    .description('record a sandbox deposit')
    .requiredOption('--email <email>')
    .requiredOption('--asset <code>')
    .requiredOption('--amount <amount>')
    .option('--network <name>', 'chain name; the asset’s default when omitted')
    .option('--json', 'print JSON')
    .action(async (options: { email: string; asset: string; amount: string; network?: string } & JsonOption) => {
      const deposit = await withApp(async (app) => app.ledger.credit(await userIdByEmail(app, options.email), options.asset, options.amount, options.network));
      print(options, deposit, `Credited ${deposit.amount} ${deposit.asset} to ${options.email} (deposit ${deposit.id})`);
    });

  const withdrawal = admin.command('withdrawal').description('withdrawals waiting as "applying"');
  for (const action of ['complete', 'reject'] as const) {
    withdrawal
      .command(action)
      .description(action === 'complete' ? 'mark as sent: the amount leaves Keygate, the fee is kept' : 'refuse: amount and fee return to the account')
      .requiredOption('--id <id>', 'the withdrawal id (withdrawId)')
      .option('--txid <txid>', 'complete only: the transaction id to report')
      .option('--json', 'print JSON')
      .action(async (options: { id: string; txid?: string } & JsonOption) => {
        if (!/^\d{1,15}$/.test(options.id)) throw new CliError('--id must be a withdrawal id (a whole number)');
        const row = await withApp((app) => (action === 'complete' ? app.withdrawals.complete(Number(options.id), options.txid) : app.withdrawals.reject(Number(options.id))));
        print(options, row, `Withdrawal ${row.id} ${row.status}`);
      });
  }

  admin
    .command('fee')
    .description('trading fees')
    .command('set')
    .description("override an account's maker and taker fee rates (default 0.001 = 0.1%)")
    .requiredOption('--email <email>')
    .requiredOption('--maker <rate>', 'fraction, e.g. 0.0008')
    .requiredOption('--taker <rate>', 'fraction, e.g. 0.001')
    .option('--json', 'print JSON')
    .action(async (options: { email: string; maker: string; taker: string } & JsonOption) => {
      await withApp(async (app) => app.exchange.setFeeRates(await userIdByEmail(app, options.email), options.maker, options.taker));
      print(options, { email: options.email, maker: options.maker, taker: options.taker }, `Fees of ${options.email}: maker ${options.maker}, taker ${options.taker}`);
    });

  const masterKey = admin.command('master-key').description('the master key that seals secrets at rest: rotation and its progress');
  masterKey
    .command('rotate')
    .description('reseal every sealed value under a new master key, in batches, while servers run (see the README for the order of steps)')
    .option('--new-key-file <file>', 'file holding the new key, base64 of 32 bytes; - reads standard input')
    .option('--new-key-env <variable>', 'environment variable holding the new key')
    .option('--batch-size <n>', 'values resealed per transaction', '200')
    .option('--pause-ms <ms>', 'wait between batches, to spare a busy database', '0')
    .option('--json', 'print JSON')
    .action(async (options: NewKeyOptions & { batchSize: string; pauseMs: string } & JsonOption) => {
      if (!/^\d{1,6}$/.test(options.batchSize) || Number(options.batchSize) < 1) throw new CliError('--batch-size must be a whole number from 1 to 999999');
      if (!/^\d{1,7}$/.test(options.pauseMs)) throw new CliError('--pause-ms must be a whole number of milliseconds');
      const key = newMasterKey(options, true)!;
      const { result, status } = await withApp(async (app) => {
        const box = app.secretBox.sealingWith(key);
        // Servers configured as this command is must already open what it reseals.
        if (!app.secretBox.keyIds.includes(box.keyId)) {
          throw new CliError(
            `The new key (${box.keyId}) is neither KEYGATE_MASTER_KEY nor KEYGATE_MASTER_KEY_PREVIOUS here, so servers configured like this could not open what would be resealed. Set it as KEYGATE_MASTER_KEY, and the old key as KEYGATE_MASTER_KEY_PREVIOUS, on every server and here, then rotate.`,
          );
        }
        const result = await app.masterKeys.rotate(box, {
          batchSize: Number(options.batchSize),
          pauseMs: Number(options.pauseMs),
          onBatch: (p) => process.stderr.write(`batch ${p.batch}: resealed ${p.resealed} ${KIND_NAMES[p.kind]}\n`),
        });
        return { result, status: await app.masterKeys.status(box) };
      });
      print(options, { ...result, status }, [`Resealed ${result.resealed.api_key_secret} API key secret(s) and ${result.resealed.totp_seed} authenticator seed(s) in ${result.batches} batch(es).`, describeStatus(status)].join('\n'));
      if (status.remaining > 0) {
        throw new CliError(
          `${status.remaining} value(s) are still sealed under another key: under a key none given here opens (give it as KEYGATE_MASTER_KEY_PREVIOUS), or sealed meanwhile by a server that still seals under the old key (restart it with the new KEYGATE_MASTER_KEY), then rotate again.`,
        );
      }
    });
  masterKey
    .command('status')
    .description('how many sealed values remain under a key other than the current one (KEYGATE_MASTER_KEY, or the new key if given)')
    .option('--new-key-file <file>', 'count against this key instead; - reads standard input')
    .option('--new-key-env <variable>', 'count against the key in this environment variable instead')
    .option('--json', 'print JSON')
    .action(async (options: NewKeyOptions & JsonOption) => {
      const key = newMasterKey(options, false);
      const status = await withApp((app) => app.masterKeys.status(key ? app.secretBox.sealingWith(key) : app.secretBox));
      print(options, status, describeStatus(status));
    });

  program
    .command('sign')
    .description('sign a v2 request and show each step (for client authors debugging a signature)')
    .addOption(new Option('--method <method>').choices(['HmacSHA256', 'RSA']).makeOptionMandatory())
    .option('--secret <secret>', `HmacSHA256 secret (${VISIBLE} --secret-file)`)
    .option('--secret-file <file>', 'read the HmacSHA256 secret from a file, or from standard input with -')
    .option('--private-key <file>', 'RSA private key file (base64 PKCS#8 or PEM)')
    .requiredOption('--api-key <key>')
    .requiredOption('--timestamp <ms>')
    .requiredOption('--echostr <echostr>')
    .argument('[params...]', 'request parameters as name=value')
    .option('--json', 'print JSON')
    .action((params: string[], options: { method: string; secret?: string; secretFile?: string; privateKey?: string; apiKey: string; timestamp: string; echostr: string } & JsonOption) => {
      const secret = secretOption('secret', options.secret, options.secretFile);
      if (!isSignatureMethod(options.method)) throw new CliError('--method must be HmacSHA256 or RSA');
      const all: Record<string, string> = { api_key: options.apiKey, timestamp: options.timestamp, signature_method: options.method, echostr: options.echostr };
      for (const param of params) {
        const at = param.indexOf('=');
        if (at < 1) throw new CliError(`"${param}" is not name=value`);
        all[param.slice(0, at)] = param.slice(at + 1);
      }
      let signed;
      if (options.method === 'HmacSHA256') {
        if (!secret) throw new CliError('HmacSHA256 needs --secret-file (or --secret)');
        signed = signParams(all, { method: 'HmacSHA256', secret });
      } else {
        if (!options.privateKey) throw new CliError('RSA needs --private-key FILE');
        signed = signParams(all, { method: 'RSA', privateKey: rsaPrivateKeyObject(readFileSync(options.privateKey, 'utf8')) });
      }
      print(options, signed, [`string to sign: ${signed.stringToSign}`, `md5:            ${signed.digest}`, `sign:           ${signed.sign}`].join('\n'));
    });

  program
    .command('audit-key')
    .description("ask an LBank-compatible server for a key's restrictions and report what breaks the best practices")
    .requiredOption('--api-key <key>')
    .option('--secret <secret>', `HmacSHA256 secret or RSA private key (base64) (${VISIBLE} --secret-file)`)
    .option('--secret-file <file>', 'read the secret or private key from a file, or from standard input with -')
    .option('--base-url <url>', 'the server', 'http://localhost:8080')
    .option('--json', 'print JSON')
    .action(async (options: { apiKey: string; secret?: string; secretFile?: string; baseUrl: string } & JsonOption) => {
      const secret = secretOption('secret', options.secret, options.secretFile);
      if (!secret) throw new CliError('audit-key needs --secret-file (or --secret)');
      const client = new LbankClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, secret });
      const restrictions = await client.call<Record<string, unknown>>('supplement/api_Restrictions');
      const findings = auditRestrictions(restrictions, Date.now());
      print(
        options,
        { restrictions, findings },
        findings.length ? findings.map((f) => `! ${f.message}`).join('\n') : 'No problems found: reading and trading only, bound to IP addresses.',
      );
    });

  return program;
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return `Configuration error: ${error.message}`;
  if (error instanceof KeyRuleError) return `${error.violation.field}: ${error.message}`;
  if (error instanceof AccountError) return `${error.field}: ${error.message}`;
  if (error instanceof LedgerError || error instanceof UnknownAssetError || error instanceof CliError || error instanceof WithdrawalError || error instanceof ExchangeError) return error.message;
  if (error instanceof LbankApiError) return `The server refused the request: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2;
      return;
    }
    process.stderr.write(`keygate: ${describe(error)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
