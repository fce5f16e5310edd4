/**
 * API key administration against the gateway's Redis (same env as the gateway: REDIS_URL,
 * API_KEY_PEPPER, APP_MODE).
 *
 *   node services/gateway/dist/keys-cli.js create --name acme [--rate-limit 600] [--max-concurrent 20]
 *   node services/gateway/dist/keys-cli.js list [--json]
 *   node services/gateway/dist/keys-cli.js revoke <key id>
 *
 * `create` prints the key once; only its hash is stored.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigError } from '@dfd/config';
import { ApiKeyStore } from './auth/api-keys.js';
import { loadGatewayConfig } from './config.js';

const USAGE = `usage: keys-cli <create --name NAME [--rate-limit N] [--max-concurrent N] | list [--json] | revoke KEY_ID>`;

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`${flag} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

export async function main(argv: string[], env: Record<string, string | undefined> = process.env, out = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, 'rate-limit': { type: 'string' }, 'max-concurrent': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const [command, ...rest] = positionals;
  // Only what the key store needs: REDIS_URL, API_KEY_PEPPER and APP_MODE are validated like the gateway does.
  const cfg = loadGatewayConfig({ ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' });
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const store = new ApiKeyStore(redis, cfg.apiKeyPepper);
    switch (command) {
      case 'create': {
        if (!values.name) throw new Error('create needs --name');
        const { key, record } = await store.create(values.name, {
          rateLimitPerMinute: positiveInt(values['rate-limit'], '--rate-limit'),
          maxConcurrentJobs: positiveInt(values['max-concurrent'], '--max-concurrent'),
        });
        if (values.json) out(JSON.stringify({ key, ...record }));
        else {
          out(`created ${record.id} (${record.name})`);
          out(`key: ${key}`);
          out('Store it now: it is not shown again.');
        }
        return 0;
      }
      case 'list': {
        const all = await store.list();
        if (values.json) out(JSON.stringify(all));
        else if (all.length === 0) out('no keys');
        else
          for (const r of all) {
            const limits = `rate=${r.rate_limit_per_minute ?? 'default'}/min concurrent=${r.max_concurrent_jobs ?? 'default'}`;
            out(`${r.id}\t${r.name}\t${r.created_at}\t${r.revoked_at ? `revoked ${r.revoked_at}` : 'active'}\t${limits}`);
          }
        return 0;
      }
      case 'revoke': {
        const id = rest[0];
        if (!id) throw new Error('revoke needs a key id');
        if (!(await store.revoke(id))) {
          console.error(`no key with id ${id}`);
          return 1;
        }
        out(`revoked ${id}`);
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    redis.disconnect();
  }
}

const isMain = process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof ConfigError ? err.message : `error: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
