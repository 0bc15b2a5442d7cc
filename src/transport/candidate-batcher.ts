/**
 * Outgoing WebRTC signals, coalesced. simple-peer emits its offer or answer at once and
 * then one signal per ICE candidate (host candidates of every interface within a few
 * ms; on a busy machine libwebrtc also trickles TCP host candidates). Sent one by one
 * through the relay, a peer joining a room of 8 can exceed the relay's per-connection
 * message rate, and a refused offer or answer means a pair never connects. Each
 * candidate also costs the receiver a synchronous `remoteDescription` read in
 * simple-peer plus an `addIceCandidate`, which in a room forming at once is CPU every
 * other connection waits for.
 *
 * So a description is held until the burst of host candidates is over (SETTLE_MS after
 * the latest), at most one short window (or until gathering completes, if sooner), and
 * then sent as the connection's *current* local description, which carries
 * every candidate gathered so far in its SDP (standard behaviour, browsers and
 * libwebrtc alike): on a LAN or one host that is the only signal of the side.
 * Candidates gathered later (server-reflexive and relay candidates after a STUN/TURN
 * round trip) still trickle, those within one window as one `candidates` signal. TCP
 * candidates are left out unless asked for (UDP works wherever ICE-TCP would; TURN
 * covers the rest).
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

/** An offer or answer. */
export interface Description {
  type: string;
  sdp: string;
}

/**
 * A held description goes this long after the latest candidate (never past its window):
 * host candidates of every interface come in one burst, and later ones (STUN, TURN)
 * need a network round trip, so waiting out the whole window would only add latency.
 */
export const SETTLE_MS = 5;

/** Most candidates accepted in one incoming batch; more is not a real peer. */
export const MAX_CANDIDATES_PER_BATCH = 64;

/** `candidate:<foundation> <component> <transport> ...`, with or without the `a=` of an SDP line. */
const transportOf = (candidate: string) => candidate.split(' ')[2]?.toLowerCase();
const isTcp = (c: CandidateInit) => transportOf(c.candidate) === 'tcp';
/** The address field of a candidate (5th), e.g. `192.0.2.2`, `::1`, `abc.local`. */
const addressOf = (candidate: string) => candidate.split(' ')[4] ?? '';
const isLoopback = (address: string) => address === '::1' || /^127\./.test(address);
const familyOf = (address: string) => (address.includes(':') ? 6 : 4);
const candidateLines = (sdp: string) => sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * A local candidate in the form every stack takes: libdatachannel reports it as an SDP
 * attribute (`a=candidate:...`) with `sdpMLineIndex: null`, which wrtc refuses ("Expected
 * a 32-bit integer"). A meshparty connection bundles everything on its first m-line.
 */
export function normalizeCandidate(c: CandidateInit): CandidateInit {
  const candidate = c.candidate.startsWith('a=') ? c.candidate.slice(2) : c.candidate;
  return { ...c, candidate, sdpMLineIndex: c.sdpMLineIndex ?? 0 };
}

/** The longest candidates gathered before their description wait for it (they normally wait a few ms). */
export const EARLY_CANDIDATE_MAX_WAIT_MS = 1000;

/** Foundation, component, transport, priority, address, port: the same candidate in an SDP line and in its own event. */
const candidateKey = (candidate: string) => candidate.split(' ', 6).join(' ');

/** How long a {@link CandidateBatcher} holds signals back, and which candidates it leaves out. */
export interface CandidateBatcherOptions {
  /** How long a description waits and candidates collect, ms (0: everything at once). */
  windowMs: number;
  /** Send TCP candidates too. */
  tcp: boolean;
  /**
   * Send loopback candidates (127.0.0.1, ::1) even when a routable address of the same
   * family is offered. Without it they are left out then, as browsers never offer them:
   * two peers that share a loopback interface also reach each other's routable address,
   * and every extra candidate adds a candidate pair to check on both sides.
   */
  loopback: boolean;
}

/**
 * Collects outgoing signals: a description waits one window (or until gathering
 * completes) and goes out with the candidates gathered so far inside it; later
 * candidates go once per window.
 *
 * @example
 * ```ts
 * const outbox = new CandidateBatcher(realClock(), { windowMs: 20, tcp: false, loopback: false }, (s) => sendToRemote(s), () => pc.localDescription);
 * peer.on('signal', (s) => outbox.push(s));
 * pc.addEventListener('icecandidate', (e) => e.candidate || outbox.gatheringComplete());
 * ```
 */
export class CandidateBatcher {
  /** Address families (4, 6) for which a routable candidate has been sent. */
  #routable = new Set<number>();
  #pending: CandidateInit[] = [];
  #held: Description | undefined;
  /** A description has come (candidates before it wait for it). */
  #described = false;
  /** ICE gathering completed (a description that comes after it waits only SETTLE_MS). */
  #gathered = false;
  /** Candidates already sent inside a description: not sent again when their own event comes. */
  #inDescription = new Set<string>();
  #timer: TimerHandle | undefined;
  /** When a held description goes at the latest. */
  #holdDeadline = 0;
  #stopped = false;

  /**
   * @param currentDescription the connection's local description now (with the
   *   candidates gathered so far); without it, descriptions are not held.
   */
  constructor(
    private readonly clock: Clock,
    private readonly options: CandidateBatcherOptions,
    private readonly emit: (signal: unknown) => void,
    private readonly currentDescription?: () => Description | null | undefined,
  ) {}

  /** A signal from simple-peer, on its way to the remote. */
  push(signal: unknown): void {
    if (this.#stopped) return;
    const s = signal as { type?: string; sdp?: unknown; candidate?: CandidateInit };
    if (s?.type === 'candidate' && s.candidate && typeof s.candidate.candidate === 'string') {
      const c = normalizeCandidate(s.candidate);
      if (!this.options.tcp && isTcp(c)) return;
      if (this.#inDescription.has(candidateKey(c.candidate))) return;
      this.#pending.push(c);
      if (this.#held) this.#settle();
      // Before any description (libdatachannel gathers while setLocalDescription runs, and
      // may even finish): wait for it, so they go inside it or after it.
      else this.#timer ??= this.clock.setTimeout(() => this.flush(), this.#described ? this.options.windowMs : EARLY_CANDIDATE_MAX_WAIT_MS);
      return;
    }
    if ((s?.type === 'offer' || s?.type === 'answer') && typeof s.sdp === 'string') {
      this.#described = true;
      if (this.#held) this.flush(); // an older description and its candidates go first
      if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      const description = { type: s.type, sdp: s.sdp };
      const holds = this.currentDescription !== undefined && this.options.windowMs > 0;
      if (holds) {
        this.#held = description;
        this.#holdDeadline = this.clock.now() + this.options.windowMs;
        // Candidates already here came in a burst before it: only stragglers are worth a
        // wait. Gathering already over: still SETTLE_MS, not at once: libdatachannel reports
        // the end of gathering before its ICE transport is ready, and pairs whose
        // description went at once failed to connect 3 times as often (12 against 4 of 900
        // pairs, loaded machine).
        if (this.#pending.length > 0 || this.#gathered) this.#settle();
        else this.#timer = this.clock.setTimeout(() => this.flush(), this.options.windowMs);
        return;
      }
      this.emit(signal);
      this.flush();
      return;
    }
    this.flush(); // keep other signals behind nothing they were produced before
    this.emit(signal);
  }

  /** ICE gathering is complete: nothing more will be gathered, so send what is held now. */
  gatheringComplete(): void {
    this.#gathered = true;
    // Candidates gathered before their description wait for it (see push).
    if (this.#described) this.flush();
  }

  /** Send what is pending now. */
  flush(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      this.#emitDescription(held);
    }
    if (this.#pending.length === 0) return;
    const fresh = this.#pending.filter((c) => !this.#inDescription.has(candidateKey(c.candidate)));
    this.#pending = [];
    const candidates = this.#withoutRedundantLoopback(fresh, (c) => c.candidate);
    if (candidates.length) this.emit({ type: 'candidates', candidates } satisfies CandidateBatch);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
    this.#held = undefined;
  }

  /** A candidate came while a description is held: send it SETTLE_MS after the burst ends. */
  #settle(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(SETTLE_MS, this.#holdDeadline - this.clock.now()));
    this.#timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  /** The held description as it is now, with its candidates (minus TCP ones unless asked for). */
  #emitDescription(held: Description): void {
    let current: Description | null | undefined;
    try {
      current = this.currentDescription?.();
    } catch {
      current = undefined; // the connection is closing; the held copy is still right
    }
    // Only the description this hold is for (a renegotiation may have replaced it since).
    let sdp = current?.type === held.type && typeof current.sdp === 'string' ? current.sdp : held.sdp;
    if (!this.options.tcp) sdp = sdp.replace(/^a=candidate:\S+ \S+ tcp .*\r?\n/gim, '');
    const lines = candidateLines(sdp);
    const kept = new Set(this.#withoutRedundantLoopback(lines, (l) => l.slice(2)));
    for (const line of lines) {
      this.#inDescription.add(candidateKey(line.slice(2)));
      if (!kept.has(line)) sdp = sdp.replace(new RegExp(`^${escapeRegExp(line)}\r?\n`, 'm'), '');
    }
    this.emit({ type: held.type, sdp });
  }

  /** `items` minus loopback candidates of a family that has a routable one (unless asked to keep them). */
  #withoutRedundantLoopback<T>(items: T[], candidateOf: (item: T) => string): T[] {
    if (this.options.loopback) return items;
    for (const item of items) {
      const address = addressOf(candidateOf(item));
      if (!isLoopback(address)) this.#routable.add(familyOf(address));
    }
    return items.filter((item) => {
      const address = addressOf(candidateOf(item));
      return !isLoopback(address) || !this.#routable.has(familyOf(address));
    });
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
