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
