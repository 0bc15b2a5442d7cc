/**
 * The outgoing-signal coalescer of the WebRTC transport, on a manual clock: a
 * description waits one window (or until gathering completes) and goes out as the
 * current local description with its candidates; later candidates go in batches; TCP
 * candidates only when asked for; nothing is sent twice.
 */
import { describe, expect, it } from 'vitest';
import { CandidateBatcher, EARLY_CANDIDATE_MAX_WAIT_MS, SETTLE_MS, unbatch } from '../../src/transport/candidate-batcher.js';
import { ManualClock } from '../../src/util/clock.js';

const udp = (n: number) => `candidate:${n} 1 udp 2122194687 192.0.2.${n} 500${n} typ host generation 0`;
const tcp = (n: number) => `candidate:${n} 1 tcp 1518214911 192.0.2.${n} 600${n} typ host tcptype passive generation 0`;
const cand = (candidate: string) => ({ type: 'candidate', candidate: { candidate, sdpMLineIndex: 0, sdpMid: '0' } });
const sdpWith = (...candidates: string[]) => ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', ...candidates.map((c) => `a=${c}`), ''].join('\r\n');

function setup(opts: { windowMs?: number; tcp?: boolean; loopback?: boolean; current?: () => { type: string; sdp: string } | null } = {}) {
  const clock = new ManualClock();
  const sent: any[] = [];
  let local: { type: string; sdp: string } | null = null;
  const batcher = new CandidateBatcher(
    clock,
    { windowMs: opts.windowMs ?? 20, tcp: opts.tcp ?? false, loopback: opts.loopback ?? false },
    (s) => sent.push(s),
    opts.current ?? (() => local),
  );
  return { clock, sent, batcher, setLocal: (d: { type: string; sdp: string }) => (local = d) };
}

describe('CandidateBatcher', () => {
  it('holds a description for one window and sends the current one, with the candidates gathered meanwhile inside', () => {
    const { clock, sent, batcher, setLocal } = setup();
    batcher.push({ type: 'offer', sdp: sdpWith() });
    batcher.push(cand(udp(1)));
    batcher.push(cand(udp(2)));
    setLocal({ type: 'offer', sdp: sdpWith(udp(1), udp(2)) });
    expect(sent).toEqual([]);
    clock.advance(20);
    expect(sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1), udp(2)) }]);
    // A candidate the description already carried is not sent again; a new one is batched.
    batcher.push(cand(udp(2)));
    batcher.push(cand(udp(3)));
    clock.advance(20);
    expect(sent.slice(1)).toEqual([{ type: 'candidates', candidates: [cand(udp(3)).candidate] }]);
  });

  it('sends candidates gathered before their description after it, or inside it (libdatachannel reports them first)', () => {
    const { clock, sent, batcher, setLocal } = setup();
    batcher.push(cand(udp(1)));
    batcher.push(cand(udp(2)));
    setLocal({ type: 'offer', sdp: sdpWith(udp(1)) });
    batcher.push({ type: 'offer', sdp: sdpWith() });
    // The burst is already in: the description waits SETTLE_MS for stragglers, not the whole window.
    clock.advance(SETTLE_MS - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([
      { type: 'offer', sdp: sdpWith(udp(1)) },
      { type: 'candidates', candidates: [cand(udp(2)).candidate] },
    ]);
    // Without holding (window 0) the description still goes first.
    const now = setup({ windowMs: 0 });
    now.batcher.push(cand(udp(3)));
    now.batcher.push({ type: 'answer', sdp: sdpWith() });
    expect(now.sent).toEqual([{ type: 'answer', sdp: sdpWith() }, { type: 'candidates', candidates: [cand(udp(3)).candidate] }]);
  });

  it('libdatachannel order (every candidate and the end of gathering before the description): the description goes SETTLE_MS later, carrying them, and nothing twice', () => {
    const { clock, sent, batcher, setLocal } = setup();
    // As libdatachannel reports them: SDP attribute form, no m-line index.
    batcher.push({ type: 'candidate', candidate: { candidate: `a=${udp(1)}`, sdpMLineIndex: null, sdpMid: '0' } });
    batcher.push({ type: 'candidate', candidate: { candidate: `a=${udp(2)}`, sdpMLineIndex: null, sdpMid: '0' } });
    batcher.gatheringComplete();
    expect(sent).toEqual([]); // they wait for their description
    setLocal({ type: 'offer', sdp: sdpWith(udp(1)) });
    batcher.push({ type: 'offer', sdp: sdpWith() });
    // No window to wait out: gathering is over; SETTLE_MS for libdatachannel's ICE transport.
    clock.advance(SETTLE_MS - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    // udp(2) was not in the SDP, so it follows, in the form wrtc takes.
    expect(sent).toEqual([
      { type: 'offer', sdp: sdpWith(udp(1)) },
      { type: 'candidates', candidates: [{ candidate: udp(2), sdpMLineIndex: 0, sdpMid: '0' }] },
    ]);
  });

  it('candidates whose description never comes still go after EARLY_CANDIDATE_MAX_WAIT_MS', () => {
    const { clock, sent, batcher } = setup();
    batcher.push(cand(udp(1)));
    clock.advance(EARLY_CANDIDATE_MAX_WAIT_MS - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([{ type: 'candidates', candidates: [cand(udp(1)).candidate] }]);
  });

  it('sends a held description SETTLE_MS after the latest candidate of a burst, never later than its window', () => {
    const { clock, sent, batcher, setLocal } = setup();
    batcher.push({ type: 'offer', sdp: sdpWith() });
    clock.advance(2);
    batcher.push(cand(udp(1)));
    clock.advance(SETTLE_MS - 1);
    batcher.push(cand(udp(2)));
    setLocal({ type: 'offer', sdp: sdpWith(udp(1), udp(2)) });
    clock.advance(SETTLE_MS - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1), udp(2)) }]);
    // A trickle that never settles still goes when the window ends.
    const slow = setup();
    slow.batcher.push({ type: 'answer', sdp: sdpWith() });
    for (let t = 0; t < 18; t += 3) {
      slow.batcher.push(cand(udp(10 + t)));
      slow.clock.advance(3);
    }
    slow.batcher.push(cand(udp(9)));
    slow.clock.advance(1);
    expect(slow.sent).toEqual([]);
    slow.clock.advance(1);
    expect(slow.sent[0]).toEqual({ type: 'answer', sdp: sdpWith() });
  });

  it('sends the description as soon as gathering completes', () => {
    const { sent, batcher, setLocal } = setup();
    batcher.push({ type: 'answer', sdp: sdpWith() });
    setLocal({ type: 'answer', sdp: sdpWith(udp(1)) });
    batcher.gatheringComplete();
    expect(sent).toEqual([{ type: 'answer', sdp: sdpWith(udp(1)) }]);
  });

  it('strips TCP candidates from descriptions and batches unless asked for', () => {
    const { clock, sent, batcher, setLocal } = setup();
    batcher.push({ type: 'offer', sdp: sdpWith() });
    setLocal({ type: 'offer', sdp: sdpWith(udp(1), tcp(2)) });
    clock.advance(20);
    batcher.push(cand(tcp(3)));
    clock.advance(20);
    expect(sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1)) }]);

    const withTcp = setup({ tcp: true });
    withTcp.batcher.push({ type: 'offer', sdp: sdpWith() });
    withTcp.setLocal({ type: 'offer', sdp: sdpWith(udp(1), tcp(2)) });
    withTcp.clock.advance(20);
    expect(withTcp.sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1), tcp(2)) }]);
  });

  it('leaves out loopback candidates of a family that has a routable one, unless asked to keep them', () => {
    const lo4 = 'candidate:7 1 udp 2122063615 127.0.0.1 45152 typ host generation 0';
    const lo6 = 'candidate:8 1 udp 2122136831 ::1 48187 typ host generation 0';
    const v6 = 'candidate:9 1 udp 2122265343 fd00::2 43696 typ host generation 0';
    const { clock, sent, batcher, setLocal } = setup();
    batcher.push({ type: 'offer', sdp: sdpWith() });
    setLocal({ type: 'offer', sdp: sdpWith(udp(1), lo4, lo6) });
    clock.advance(20);
    // IPv4 has a routable candidate, IPv6 (so far) only loopback: that one stays.
    expect(sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1), lo6) }]);
    batcher.push(cand(v6));
    batcher.push(cand('candidate:10 1 udp 2122063615 127.0.0.2 45153 typ host generation 0'));
    clock.advance(20);
    expect(sent[1]).toEqual({ type: 'candidates', candidates: [cand(v6).candidate] });

    const keep = setup({ loopback: true });
    keep.batcher.push({ type: 'offer', sdp: sdpWith() });
    keep.setLocal({ type: 'offer', sdp: sdpWith(udp(1), lo4) });
    keep.clock.advance(20);
    expect(keep.sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1), lo4) }]);

    // Only loopback addresses (an offline machine): they are all there is, so they go.
    const offline = setup();
    offline.batcher.push({ type: 'offer', sdp: sdpWith() });
    offline.setLocal({ type: 'offer', sdp: sdpWith(lo4, lo6) });
    offline.clock.advance(20);
    expect(offline.sent).toEqual([{ type: 'offer', sdp: sdpWith(lo4, lo6) }]);
  });

  it('falls back to the held description when the current one is missing or of another type', () => {
    const { clock, sent, batcher } = setup({ current: () => ({ type: 'answer', sdp: 'other' }) });
    batcher.push({ type: 'offer', sdp: sdpWith(udp(1)) });
    clock.advance(20);
    expect(sent).toEqual([{ type: 'offer', sdp: sdpWith(udp(1)) }]);
    const throwing = setup({ current: () => { throw new Error('closed'); } });
    throwing.batcher.push({ type: 'offer', sdp: 'held' });
    throwing.clock.advance(20);
    expect(throwing.sent).toEqual([{ type: 'offer', sdp: 'held' }]);
  });

  it('with a zero window sends descriptions at once; other signals flush what waits first', () => {
    const { sent, batcher } = setup({ windowMs: 0 });
    batcher.push({ type: 'offer', sdp: 'x' });
    expect(sent).toEqual([{ type: 'offer', sdp: 'x' }]);
    const b = setup();
    b.batcher.push(cand(udp(1)));
    b.batcher.push({ type: 'renegotiate', renegotiate: true });
    expect(b.sent).toEqual([{ type: 'candidates', candidates: [cand(udp(1)).candidate] }, { type: 'renegotiate', renegotiate: true }]);
  });

  it('sends nothing after stop', () => {
    const { clock, sent, batcher } = setup();
    batcher.push({ type: 'offer', sdp: 'x' });
    batcher.stop();
    clock.advance(100);
    batcher.push(cand(udp(1)));
    batcher.flush();
    expect(sent).toEqual([]);
  });

  it('unbatch turns a batch into one candidate signal each and refuses malformed batches', () => {
    expect(unbatch({ type: 'candidates', candidates: [{ candidate: udp(1), sdpMLineIndex: 0, sdpMid: '0' }] })).toEqual([cand(udp(1))]);
    expect(unbatch({ type: 'offer', sdp: 'x' })).toEqual([{ type: 'offer', sdp: 'x' }]);
    expect(unbatch({ type: 'candidates', candidates: 'no' })).toBeUndefined();
  });
});
