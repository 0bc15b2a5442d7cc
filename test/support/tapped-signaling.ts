import type { Signaling } from '../../src/signaling-client/types.js';

/**
 * A signaling that is `inner` except for `sendSignal`, which goes through `send` (given
 * the real send as `forward`): for tests that watch, duplicate or drop what a peer
 * hands the relay.
 */
export function tappedSignaling(inner: Signaling, send: (to: string, data: unknown, forward: Signaling['sendSignal']) => void): Signaling {
  return {
    get status() {
      return inner.status;
    },
    join: () => inner.join(),
    close: () => inner.close(),
    on: (e, l) => inner.on(e, l),
    sendSignal: (to, data) => send(to, data, (t, d) => inner.sendSignal(t, d)),
  };
}

/**
 * `inner` as a hostile relay sees it: every signal the peer sends is recorded (`sent`),
 * and `inject` hands the peer any signal "from" anyone, as the relay could.
 */
export function hostileSignaling(inner: Signaling): { signaling: Signaling; sent: Array<{ to: string; data: unknown }>; inject(from: string, data: unknown): void } {
  const sent: Array<{ to: string; data: unknown }> = [];
  const listeners: Array<(s: { from: string; data: unknown }) => void> = [];
  const tapped = tappedSignaling(inner, (to, data, forward) => {
    sent.push({ to, data: structuredClone(data) });
    forward(to, data);
  });
  const signaling: Signaling = {
    ...tapped,
    get status() {
      return inner.status;
    },
    on: ((e: string, l: (v: unknown) => void) => {
      if (e === 'signal') listeners.push(l as never);
      return inner.on(e as never, l as never);
    }) as Signaling['on'],
  };
  const inject = (from: string, data: unknown) => {
    for (const l of listeners) l({ from, data });
  };
  return { signaling, sent, inject };
}
