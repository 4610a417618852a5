/**
 * Coalesces identical work without serving stale results. A caller joins a run only if that run
 * starts after the call; while one run is in flight, everyone who asks meanwhile shares the single
 * next run. So a burst of 200 `/vip status` in a second costs two collections, not 200, and every
 * answer is still made from facts read after it was asked for.
 */
export function freshSingleFlight<V>(run: (key: string) => Promise<V>): (key: string) => Promise<V> {
  const inFlight = new Map<string, Promise<V>>();
  const queued = new Map<string, Promise<V>>();

  const start = (key: string): Promise<V> => {
    const promise = run(key).finally(() => {
      if (inFlight.get(key) === promise) inFlight.delete(key);
    });
    inFlight.set(key, promise);
    return promise;
  };

  return (key: string) => {
    const current = inFlight.get(key);
    if (!current) return start(key);
    const waiting = queued.get(key);
    if (waiting) return waiting;
    const next = current
      .then(() => undefined, () => undefined)
      .then(() => {
        queued.delete(key);
        return start(key);
      });
    queued.set(key, next);
    return next;
  };
}
