/**
 * Every HTTP request to Azure is bounded twice: by the run (its signal aborts on cancel and at the deadline) and by a
 * time limit of its own, so that an answer held back or a connection dropped without a reset cannot hang the step
 * (docs/azure-service.md#request-time-limits). A request that runs out of its own time is a transport failure that
 * the retry layer (core/retry.ts) may try again; one the run stopped is the run's CancelledError.
 */
import { CancelledError } from '../errors';
import { abortError } from '../retry';

/** Per-request limits, by service (docs/azure-service.md#request-time-limits). */
export const REQUEST_TIMEOUT_MS = {
  /** ARM gives a resource provider 60 s before it answers 504 itself. */
  arm: 90_000,
  /** metadata/endpoints: a static document. */
  metadata: 30_000,
  /** Entra and managed-identity token requests. */
  signIn: 60_000,
  keyVault: 60_000,
  /** Storage's own server time-out is 30 s for everything but data transfer. */
  storage: 60_000,
  /** A server-side copy of up to 256 MiB (Copy Blob From URL) is one request. */
  storageCopy: 10 * 60_000,
  registry: 60_000,
} as const;

/** The request got no answer in its time; retryable, like a reset connection (http-retry.ts counts ETIMEDOUT as one). */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** What the Azure SDKs pass as a signal (their SignalLike): enough to follow it. */
export interface SignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface RequestBounds {
  /** The run's signal (cancel, deadline). */
  readonly signal?: AbortSignal | undefined;
  /** Another signal that also stops this request (e.g. one operation's own, or the SDK's). */
  readonly also?: SignalLike | undefined;
  readonly timeoutMs: number;
}

/**
 * Runs one attempt of a request with a signal of its own, aborted when the run's signal (or `also`) aborts or after
 * `timeoutMs`. Throws the run's CancelledError when the run stopped it, RequestTimeoutError when its time ran out, even
 * if `fn` does not honour its signal (its late result is dropped).
 */
export async function boundedAttempt<T>(b: RequestBounds, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const parents = [b.signal, b.also].filter((s): s is SignalLike => s !== undefined);
  // The run's CancelledError (cancelled or timed out) when its signal stopped the request.
  const why = (): CancelledError | undefined => {
    const by = parents.find((s) => s.aborted);
    if (!by) return undefined;
    return by instanceof AbortSignal ? abortError(by) : new CancelledError('cancelled', 'cancelled');
  };
  const stopped = why();
  if (stopped) throw stopped;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    onAbort = (): void => {
      controller.abort();
      reject(why());
    };
    for (const s of parents) s.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      controller.abort();
      reject(new RequestTimeoutError(`${what}: no answer within ${Math.round(b.timeoutMs / 1000)} s`));
    }, b.timeoutMs);
    timer.unref();
  });
  const work = fn(controller.signal);
  // Whichever loses the race must not surface as an unhandled rejection.
  work.catch(() => undefined);
  ended.catch(() => undefined);
  try {
    return await Promise.race([work, ended]);
  } catch (e) {
    // The SDK's own AbortError, when our abort reached it first: say why it was aborted.
    const by = why();
    if (by) throw by;
    if (controller.signal.aborted && !(e instanceof RequestTimeoutError))
      throw new RequestTimeoutError(`${what}: no answer within ${Math.round(b.timeoutMs / 1000)} s`);
    throw e;
  } finally {
    clearTimeout(timer);
    for (const s of parents) if (onAbort) s.removeEventListener('abort', onAbort);
  }
}
