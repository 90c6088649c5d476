// What every view shares: who is signed in, with which scopes.

import type { Whoami } from "./api";

export interface App {
  who: Whoami;
  /** can reports whether the token grants scope (admin grants all). */
  can(scope: "read" | "ingest" | "admin"): boolean;
  /** go navigates to a route of the hash. */
  go(hash: string): void;
}

export interface View {
  root: HTMLElement;
  /** dispose stops the view's timers and streams. */
  dispose(): void;
}

/** perf collects timings the browser tests read. */
export const perf: Record<string, number> = {};
(window as unknown as { __egPerf: Record<string, number> }).__egPerf = perf;

// The longest main-thread task since the page loaded, where the browser tells.
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration > (perf.longestTask ?? 0)) {
        perf.longestTask = e.duration;
        perf.longestTaskAt = e.startTime;
      }
    }
  }).observe({ type: "longtask", buffered: true });
} catch {
  // no Long Tasks API
}
