import type { Logger } from "@shop/platform";

export interface VisibilityRefresherOptions {
  /** The index refreshed, for logs. */
  index: string;
  /** Makes everything the index has accepted so far searchable (an OpenSearch `_refresh` of the index). */
  refresh: () => Promise<void>;
  /**
   * A write is searchable within this long of reaching the writer, and of JetStream storing its event while the events
   * reach the writer within a quarter of it; refreshes come about once per interval.
   */
  intervalMs: number;
  logger: Logger;
}

/** What a refresh is taken to last before one has been measured. */
const assumedRefreshMs = 25;
/** How many recent refreshes the margin is estimated from (their durations, and the lag of the writes they covered). */
const recentRefreshes = 8;
/**
 * The share of the interval kept in hand for what recent refreshes do not predict: a refresh slower than any of the
 * last few (a merge or a collection on the node), a timer firing late behind a busy event loop. Without it, the search
 * benchmark's writer made writes searchable 898–955 ms after they reached it at a 1 s interval, and one run in nine
 * had 3 of 61 changes searchable past the interval after their events were published (the last after 1,053 ms).
 */
const unforeseenShare = 0.1;

/** When an index writer refreshes its index; `createVisibilityRefresher` says how. */
export interface VisibilityRefresher {
  /**
   * Writes that came to the writer at `arrivedAt` (`performance.now()`; the oldest of a bulk request) are indexed;
   * `lagMs` is the longest any of their events took from JetStream to the writer.
   */
  written(arrivedAt: number, lagMs?: number): void;
  /** Refreshes now, after any refresh already running; resolves once everything in the index is searchable. */
  refreshNow(): Promise<void>;
  /** Cancels the timer and waits for a refresh in flight; nothing is refreshed after this. */
  close(): Promise<void>;
}

/**
 * Decides when an index is refreshed, so that a write is searchable within the interval of reaching the writer while
 * the index is refreshed no more often than about once per interval. A quiet index (no refresh started within the
 * last interval) is refreshed as soon as a bulk request lands; a busy one by the deadline of the oldest write not yet
 * refreshed, less a margin for the refresh itself. At most one refresh runs and at most one timer waits; writes that
 * land during a refresh are covered by the next one. A failed refresh is logged and retried an interval later, or when
 * the next bulk lands after that.
 */
export function createVisibilityRefresher(options: VisibilityRefresherOptions): VisibilityRefresher {
  return new DeadlineRefresher(options);
}

class DeadlineRefresher implements VisibilityRefresher {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** When the oldest write that reached OpenSearch but no started refresh covers came to the writer. */
  private oldestUnrefreshed: number | undefined;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  /** After a failed refresh, the next waits until then: a node that refuses refreshes is not asked in a loop. */
  private notBefore = Number.NEGATIVE_INFINITY;
  private readonly durations: number[] = [];
  /** The longest lag of the writes each recent refresh covered, and of those no refresh has covered yet. */
  private readonly lags: number[] = [];
  private pendingLag = 0;
  private closed = false;

  constructor(private readonly options: VisibilityRefresherOptions) {}

  written(arrivedAt: number, lagMs = 0): void {
    this.oldestUnrefreshed = Math.min(this.oldestUnrefreshed ?? arrivedAt, arrivedAt);
    this.pendingLag = Math.max(this.pendingLag, lagMs);
    this.schedule();
  }

  async refreshNow(): Promise<void> {
    while (this.running) await this.running;
    if (this.closed) return;
    await this.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.running;
  }

  /**
   * How long before a write's deadline its refresh starts. It covers the refresh's own duration, taken as twice the
   * slowest of the last few (a refresh a little slower than those still ends in time), a tenth of the interval for
   * what those do not predict (`unforeseenShare`), and the longest time the events behind the last few refreshes'
   * writes took to reach the writer after JetStream stored them (the deadline counts from the writer, a customer from
   * the change). Bounded to a quarter of the interval: a node whose refreshes take longer than that, or a consumer
   * lagging further, misses the promise rather than having the index refreshed ever more often.
   */
  private margin(): number {
    const { intervalMs } = this.options;
    const slowest = Math.max(assumedRefreshMs, ...this.durations);
    const lag = Math.max(this.pendingLag, ...this.lags);
    return Math.min(intervalMs / 4, 2 * slowest + unforeseenShare * intervalMs + lag);
  }

  private schedule(): void {
    if (this.closed || this.running || this.oldestUnrefreshed === undefined) return;
    const now = performance.now();
    const quiet = now - this.lastStartedAt >= this.options.intervalMs;
    // A busy index: by the oldest write's deadline, but never sooner than the same span after the last refresh
    // started. A write that reached OpenSearch late (behind a backlog of bulk requests, as in a rebuild) is then
    // searchable at most its own lag past the interval, and a backlog does not have the index refreshed back to back.
    const spacing = this.options.intervalMs - this.margin();
    const due = quiet ? now : Math.max(this.oldestUnrefreshed, this.lastStartedAt) + spacing;
    const at = Math.max(due, this.notBefore);
    if (at <= now) {
      this.start().catch(() => undefined); // logged by start
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      if (!this.running && !this.closed && this.oldestUnrefreshed !== undefined) this.start().catch(() => undefined);
    }, at - now);
  }

  /** Starts a refresh covering every write in the index now; the returned promise rejects when it fails. */
  private start(): Promise<void> {
    this.clearTimer();
    const covered = this.oldestUnrefreshed;
    this.oldestUnrefreshed = undefined;
    this.lags.push(this.pendingLag);
    if (this.lags.length > recentRefreshes) this.lags.shift();
    this.pendingLag = 0;
    const startedAt = performance.now();
    this.lastStartedAt = startedAt;
    const attempt = this.options.refresh();
    this.running = attempt
      .then(
        () => {
          this.durations.push(performance.now() - startedAt);
          if (this.durations.length > recentRefreshes) this.durations.shift();
        },
        (err: unknown) => {
          // What it covered waits for the next refresh: when the next bulk lands or an interval from now.
          if (covered !== undefined) this.oldestUnrefreshed = Math.min(this.oldestUnrefreshed ?? covered, covered);
          this.notBefore = performance.now() + this.options.intervalMs;
          this.options.logger.error({ err, index: this.options.index }, "index refresh failed; retrying");
        },
      )
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
    return attempt;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
