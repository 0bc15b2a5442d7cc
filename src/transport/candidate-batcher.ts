/**
 * ICE candidates, batched. simple-peer emits one signal per candidate; on a busy machine
 * libwebrtc also trickles dozens of TCP host candidates per connection. Sent one by one
 * through the relay, a peer joining a room of 8 can exceed the relay's per-connection
 * message rate, and a refused offer or answer means a pair never connects. So
 * candidates gathered within a short window go out as one signal, and TCP candidates
 * are left out unless asked for (UDP works wherever ICE-TCP would; TURN covers the rest).
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** One ICE candidate as simple-peer sends and takes it. */
export interface CandidateInit {
  candidate: string;
  sdpMLineIndex?: number | null;
  sdpMid?: string | null;
}

/** The batched wire form: `{ type: 'candidates', candidates: [...] }`. */
export interface CandidateBatch {
  type: 'candidates';
  candidates: CandidateInit[];
}

/** Most candidates accepted in one incoming batch; more is not a real peer. */
export const MAX_CANDIDATES_PER_BATCH = 64;

const isTcp = (c: CandidateInit) => c.candidate.split(' ')[2]?.toLowerCase() === 'tcp';

/**
 * Collects outgoing signals; descriptions go at once, candidates once per window.
 *
 * @example
 * ```ts
 * const outbox = new CandidateBatcher(realClock(), 20, false, (s) => sendToRemote(s));
 * peer.on('signal', (s) => outbox.push(s));
 * ```
 */
export class CandidateBatcher {
  #pending: CandidateInit[] = [];
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly includeTcp: boolean,
    private readonly emit: (signal: unknown) => void,
  ) {}

  /** A signal from simple-peer, on its way to the remote. */
  push(signal: unknown): void {
    if (this.#stopped) return;
    const s = signal as { type?: string; candidate?: CandidateInit };
    if (s?.type !== 'candidate' || !s.candidate) {
      this.flush(); // keep candidates behind nothing they were gathered before
      this.emit(signal);
      return;
    }
    if (!this.includeTcp && isTcp(s.candidate)) return;
    this.#pending.push(s.candidate);
    this.#timer ??= this.clock.setTimeout(() => this.flush(), this.windowMs);
  }

  /** Send what is pending now. */
  flush(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0 || this.#stopped) return;
    const candidates = this.#pending;
    this.#pending = [];
    this.emit({ type: 'candidates', candidates } satisfies CandidateBatch);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
  }
}

/**
 * The signals simple-peer should be fed for one incoming signal: a batch becomes one
 * `{ candidate }` each; anything else passes as it is. Undefined for a malformed batch.
 *
 * @example
 * ```ts
 * for (const s of unbatch(incoming) ?? []) peer.signal(s);
 * ```
 */
export function unbatch(signal: unknown): unknown[] | undefined {
  const s = signal as Partial<CandidateBatch> | null;
  if (typeof s !== 'object' || s === null || s.type !== 'candidates') return [signal];
  if (!Array.isArray(s.candidates) || s.candidates.length > MAX_CANDIDATES_PER_BATCH) return undefined;
  const out: unknown[] = [];
  for (const c of s.candidates) {
    if (typeof c !== 'object' || c === null || typeof c.candidate !== 'string' || c.candidate.length > 1024) return undefined;
    out.push({ type: 'candidate', candidate: { candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex ?? null, sdpMid: c.sdpMid ?? null } });
  }
  return out;
}
