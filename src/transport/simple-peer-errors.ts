/**
 * simple-peer's error codes (`ERR_*`) mapped to meshparty's stable transport codes, and
 * the shape check for signals a remote peer sends us. Kept apart from the transport so
 * both are plain functions with their own tests.
 */
import { MeshpartyError } from '../util/errors.js';
import { MAX_CANDIDATES_PER_BATCH } from './candidate-batcher.js';

const CODES: Record<string, string> = {
  ERR_WEBRTC_SUPPORT: 'webrtc-unsupported',
  ERR_PC_CONSTRUCTOR: 'webrtc-unsupported',
  ERR_CONNECTION_FAILURE: 'connection-failed',
  ERR_ICE_CONNECTION_FAILURE: 'ice-failed',
  ERR_ICE_CONNECTION_CLOSED: 'ice-closed',
  ERR_DATA_CHANNEL: 'data-channel-failed',
  ERR_SIGNALING: 'bad-signal',
  ERR_SET_REMOTE_DESCRIPTION: 'bad-signal',
  ERR_ADD_ICE_CANDIDATE: 'bad-signal',
  ERR_CREATE_OFFER: 'negotiation-failed',
  ERR_CREATE_ANSWER: 'negotiation-failed',
  ERR_SET_LOCAL_DESCRIPTION: 'negotiation-failed',
};

/**
 * Wrap an error from simple-peer (or the WebRTC stack under it) in a MeshpartyError with
 * a stable code; the original code and message stay in `detail`.
 *
 * @example
 * ```ts
 * peer.on('error', (e) => transport.destroy(fromSimplePeerError(e)));
 * ```
 */
export function fromSimplePeerError(err: unknown): MeshpartyError {
  if (err instanceof MeshpartyError) return err;
  const raw = (err as { code?: unknown } | null)?.code;
  const original = typeof raw === 'string' ? raw : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const code = (original && CODES[original]) ?? 'transport-failed';
  return new MeshpartyError(code, `WebRTC: ${message}`, original ? { cause: original } : undefined);
}

const SIGNAL_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback', 'renegotiate', 'transceiverRequest', 'candidate']);

/**
 * Why `data` is not a signal simple-peer can take, or undefined when it looks right.
 * simple-peer throws on some malformed input (JSON strings) and tears the connection
 * down on others; a remote's bad signal must only ever be dropped.
 *
 * @example
 * ```ts
 * const why = signalProblem(data); if (why) log.warn('dropped signal', { why });
 * ```
 */
export function signalProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'not an object';
  const s = data as Record<string, unknown>;
  if (s.type !== undefined && (typeof s.type !== 'string' || !SIGNAL_TYPES.has(s.type))) return 'unknown signal type';
  if (s.type === 'offer' || s.type === 'answer' || s.type === 'pranswer') {
    if (typeof s.sdp !== 'string' || s.sdp.length >= 256 * 1024) return 'sdp missing or too long';
    // As many as one batch may carry: each costs the engine an addIceCandidate (the
    // node-datachannel adapter retries a refused one for 2 s), and a real peer has a handful.
    return (s.sdp.match(/^a=candidate:/gm)?.length ?? 0) > MAX_CANDIDATES_PER_BATCH ? 'too many candidates in the sdp' : undefined;
  }
  if (s.candidate !== undefined) {
    const c = s.candidate as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null || typeof c.candidate !== 'string') return 'malformed candidate';
    return undefined;
  }
  if (s.type === 'renegotiate' || s.type === 'transceiverRequest' || s.type === 'rollback') return undefined;
  return 'neither a description nor a candidate';
}
