import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.ts';
import { FleetError } from '../core/errors.ts';
import type { FleetConfig } from '../config/types.ts';
import { createFleet, type Fleet, type FleetDeps, type ReloadResult } from '../fleet/index.ts';
import { isLoopback, KeyChecker } from './auth.ts';
import type { Gateway } from './context.ts';
import { Cors } from './cors.ts';
import { HttpError } from './errors.ts';
import { LiveFeed } from './live.ts';
import { GatewayMetrics } from './metrics.ts';
import { RecentRequests } from './recent.ts';
import { ResponseItems } from './response-items.ts';
import { createGatewayHandler } from './router.ts';

type ConfigLike = Pick<FleetConfig, 'workers' | 'settings' | 'gateway'>;

export interface GatewayOptions {
  /** The fleet's config; the gateway creates the fleet and closes it on close. Give this or `fleet`. */
  config?: ConfigLike;
  /** An existing fleet to serve instead (the gateway drains it but does not close it). */
  fleet?: Fleet;
  /** Passed to `createFleet` when the gateway creates the fleet. @default {} */
  fleetDeps?: FleetDeps;
  /** Address to listen on. Anything but loopback needs `apiKeys` or `insecure`. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /**
   * Accepted API keys (Bearer or x-api-key), besides the config's `gateway.apiKeys`, which a reload
   * replaces. None at all = no auth. @default []
   */
  apiKeys?: readonly string[];
  /** Allow a non-loopback host without an API key. @default false */
  insecure?: boolean;
  /**
   * Origins whose browser pages may call the gateway (CORS): `*` or `scheme://host[:port]`, besides
   * the config's `gateway.corsOrigins`, which a reload replaces.
   * @default [] (no CORS headers: browsers keep answers from pages of other origins)
   */
  corsOrigins?: readonly string[];
  /** Largest request body in bytes; larger gets 413. @default 4 MiB */
  maxBodyBytes?: number;
  /** ms without a chunk before a stream gets a keep-alive comment. @default 15000 */
  keepAliveMs?: number;
  /** ms between `/fleet/events` snapshots. @default 1000 */
  eventsIntervalMs?: number;
  /** Where logs go. @default a silent logger (the library never writes to the console) */
  logger?: Logger;
  /** Log request bodies (prompts). @default false */
  logBodies?: boolean;
  /** Reads the config again, for `reload()` without an argument, SIGHUP and `POST /fleet/reload`. */
  loadConfig?: () => Promise<ConfigLike>;
  /** Requests kept for the dashboard's recent list. @default 200 */
  recentLimit?: number;
  clock?: Clock;
}

export interface RunningGateway {
  /** `http://host:port` (loopback address when listening on all interfaces). */
  url: string;
  host: string;
  port: number;
  fleet: Fleet;
  server: Server;
  /** Applies `config`, or the one `loadConfig` reads: added workers join, removed ones drain. */
  reload(config?: ConfigLike): Promise<ReloadResult>;
  /** Stops taking new requests (503), waits for in-flight ones, then closes. */
  drain(): Promise<void>;
  /** Closes at once: in-flight requests are aborted. */
  close(): Promise<void>;
  /** Clients must send a key: the options' keys and the config's together (a reload may change it). */
  readonly keyRequired: boolean;
  /** Pages of any origin may call the API (CORS `*`, from the options or the config). */
  readonly anyOrigin: boolean;
}

/** Starts the gateway (DESIGN.md front end over the scheduler) and resolves once it listens. */
export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  const host = o.host ?? '127.0.0.1';
  /** Keys and origins: the options' and the config's gateway section (at start, and per reload). */
  const access = (config: ConfigLike | undefined) => {
    const keys = new KeyChecker([...new Set([...(o.apiKeys ?? []), ...(config?.gateway?.apiKeys ?? [])])]);
    if (!isLoopback(host) && !keys.enabled && o.insecure !== true)
      throw new FleetError(
        'FLEET_INPUT_INVALID',
        `refusing to listen on ${host} without an API key: anyone on the network could use the fleet. Set FLEET_API_KEY (or --api-key-env NAME, or gateway.api_keys_env in the config), or pass --insecure`,
      );
    return { keys, cors: new Cors([...(o.corsOrigins ?? []), ...(config?.gateway?.corsOrigins ?? [])]) };
  };
  const { keys, cors } = access(o.config);
  if (!o.fleet && !o.config)
    throw new FleetError('FLEET_INPUT_INVALID', 'startGateway: give `config` or `fleet`');
  const clock = o.clock ?? systemClock;
  const owned = !o.fleet;
  const fleet = o.fleet ?? createFleet(o.config!, { clock, ...o.fleetDeps });
  const log = o.logger ?? pino({ level: 'silent' });
  const recent = new RecentRequests(o.recentLimit ?? 200);
  let draining = false;

  const reload = async (config?: ConfigLike): Promise<ReloadResult> => {
    const next = config ?? (await o.loadConfig?.());
    if (!next)
      throw new HttpError(
        400,
        'invalid_request_error',
        'reload_unavailable',
        'no config file to reload from',
      );
    // Checked before anything changes: a reload that would leave a network address without a key,
    // or name a bad origin, is refused whole.
    const nextAccess = access(next);
    const r = fleet.reload(next);
    g.keys = nextAccess.keys;
    g.cors = nextAccess.cors;
    log.info(r, 'config reloaded');
    return r;
  };
  const g: Gateway = {
    fleet,
    clock,
    log,
    keys,
    cors,
    recent,
    responseItems: new ResponseItems(clock),
    live: new LiveFeed(fleet, recent, clock, o.eventsIntervalMs ?? 1000),
    metrics: new GatewayMetrics(fleet),
    keepAliveMs: o.keepAliveMs ?? 15_000,
    logBodies: o.logBodies ?? false,
    maxBodyBytes: o.maxBodyBytes ?? 4 * 1024 * 1024,
    isDraining: () => draining,
    reload: () => reload(),
  };
  const server = createServer(createGatewayHandler(g));
  // Node 20 closes an idle keep-alive connection after 5 s. httpx (under the OpenAI Python SDK)
  // keeps idle connections as long, and Python's requests with no limit: such a client can send
  // its next POST on a connection the gateway is closing, and get a reset it does not retry. 65 s
  // (the default of newer Node versions) outlasts httpx; idle connections still close at drain.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    g.live.close();
    g.metrics.close();
    if (owned) await fleet.close();
    throw new FleetError(
      'FLEET_INPUT_INVALID',
      `cannot listen on ${host}:${o.port ?? 8080}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  log.info({ url, workers: fleet.workers.length, auth: keys.enabled }, 'gateway listening');

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      g.live.close();
      g.metrics.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      if (owned) await fleet.close();
      server.closeAllConnections();
      await stopped;
      log.info('gateway closed');
    })());

  return {
    url,
    host,
    port,
    fleet,
    server,
    reload,
    async drain() {
      draining = true;
      log.info('draining: finishing in-flight requests, taking no new ones');
      server.closeIdleConnections();
      await fleet.drain();
      await close();
    },
    close,
    get keyRequired() {
      return g.keys.enabled;
    },
    get anyOrigin() {
      return g.cors.anyOrigin;
    },
  };
}
