import type { Platform } from "./platform.js";
import type { RunningService, ServiceDefinition } from "./server/serve.js";

/**
 * What every service's `create<Name>(platform, config, overrides?)` returns: the service built on its platform, its
 * background work (consumers, relays, sweepers) already running. One shape for every service, so main.ts, tests and
 * benchmarks start each one the same way.
 */
export interface ShopService {
  /** Serves the service on the platform's SHOP_PORT (0: a free port); calling it again returns the same server. */
  start(): Promise<RunningService>;
  /** Stops serving (if it was started), then everything the service runs, then the platform. Idempotent. */
  stop(): Promise<void>;
  /**
   * Resolves once the service answers with complete data (search: its catalog is built). If it rejects, the service
   * can never get there: it stops itself and its process ends with exit code 1, so a supervisor starts it again.
   */
  ready: Promise<void>;
}

/**
 * Binds a service's definition to its platform as a `ShopService`; each service's create function ends with it, so
 * starting and stopping work alike everywhere. `ready` defaults to at once.
 */
export function createShopService(
  platform: Platform,
  definition: ServiceDefinition,
  ready: Promise<void> = Promise.resolve(),
): ShopService {
  let serving: Promise<RunningService> | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopping ??= (async () => {
      const running = await serving?.catch(() => undefined);
      if (running) return running.shutdown();
      // Never served: run what serving's shutdown would have run.
      for (const hook of definition.onShutdown ?? []) await hook();
      await platform.close();
    })();
    return stopping;
  };

  ready.catch((err: unknown) => {
    platform.logger.fatal({ err }, `${definition.name} cannot become ready; stopping`);
    process.exitCode = 1;
    void stop();
  });

  return {
    start() {
      if (stopping) return Promise.reject(new Error(`${definition.name} was stopped; create it again`));
      serving ??= platform.serve(definition);
      return serving;
    },
    stop,
    ready,
  };
}
