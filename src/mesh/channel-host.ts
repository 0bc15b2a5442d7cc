/**
 * Named channels of one mesh: creating them (names hash to the ids frames carry) and
 * sending or broadcasting a channel's messages over the open connections.
 */
import { MeshpartyError } from '../util/errors.js';
import { type ChannelHost, MeshChannel } from './channel.js';
import type { MeshContext } from './mesh-context.js';
import type { Channel, PeerId, Reliability } from './types.js';

/** Refusals that mean the peer left (or the room closed) while a broadcast was under way. */
const LEFT_CODES = new Set(['unknown-peer', 'peer-left', 'closed']);

/**
 * The `channel(name, options)` function of a room over `ctx`: the same name gives the
 * same channel; a name whose id collides with another's is refused.
 *
 * @example
 * ```ts
 * const channel = createChannels(ctx);
 * channel('chat').on('message', ({ from, data }) => console.log(from, data));
 * ```
 */
export function createChannels(ctx: MeshContext): (name: string, o?: { reliability?: Reliability }) => Channel {
  const { opts, remotes, open, channelsById } = ctx;
  /**
   * Every channel made, by name and by id, held weakly: one nobody listens on, claims or
   * holds is let go. Held for good, each document ever opened in a room left two channels
   * behind (its own and its links), some 1.7 KB, for as long as the room stayed open.
   * Messages are routed only to channels in use (`ctx.channelsById`, held while a listener
   * or a claim is): one with no listener has nobody to deliver to.
   */
  const channels = new Map<string, WeakRef<MeshChannel>>();
  const ids = new Map<number, WeakRef<MeshChannel>>();
  const collected = new FinalizationRegistry<{ name: string; id: number }>(({ name, id }) => {
    // (The name may have a new channel by now: only a gone one is forgotten.)
    if (channels.get(name)?.deref() === undefined) channels.delete(name);
    if (ids.get(id)?.deref() === undefined) ids.delete(id);
  });

  const tooLarge = (data: Uint8Array) =>
    new MeshpartyError('message-too-large', `message of ${data.byteLength} bytes over the ${opts.maxMessageBytes}-byte limit`, {
      bytes: data.byteLength,
      maxMessageBytes: opts.maxMessageBytes,
    });

  /** Send `data` on `ch` to `to`; `owned`: `data` is the mesh's own copy (shared by a broadcast's queues). */
  const sendTo = (ch: MeshChannel, to: PeerId, data: Uint8Array, owned: boolean): Promise<void> => {
    if (ctx.closed) return Promise.reject(new MeshpartyError('closed', 'the room is closed'));
    if (!(data instanceof Uint8Array)) return Promise.reject(new MeshpartyError('bad-argument', 'data must be a Uint8Array'));
    if (data.byteLength > opts.maxMessageBytes) return Promise.reject(tooLarge(data));
    const conn = remotes.get(to)?.conn;
    if (!conn?.isOpen) return Promise.reject(new MeshpartyError('unknown-peer', `no open connection to peer ${to}`, { peer: to }));
    return conn.send(ch.reliability, ch.id, data, owned);
  };

  const host: ChannelHost = {
    sendOn: (ch, to, data) => sendTo(ch, to, data, false),
    async broadcastOn(ch, data) {
      if (ctx.closed) throw new MeshpartyError('closed', 'the room is closed');
      if (!(data instanceof Uint8Array)) throw new MeshpartyError('bad-argument', 'data must be a Uint8Array');
      if (data.byteLength > opts.maxMessageBytes) throw tooLarge(data);
      const ids = [...open.keys()];
      // One copy for every peer's queue (a copy each would be N times a large message), so
      // the caller may reuse `data` once broadcast() returns, as with send().
      const own = ids.length > 0 && ch.reliability === 'reliable' ? data.slice() : data;
      const results = await Promise.allSettled(ids.map((id) => sendTo(ch, id, own, own !== data)));
      // A peer leaving mid-broadcast is not the sender's failure; any other refusal (a full
      // queue) left a hole in that peer's stream, and the sender must hear of it.
      const failed: Record<PeerId, string> = {};
      let first: MeshpartyError | undefined;
      results.forEach((res, i) => {
        if (res.status === 'fulfilled') return;
        const err = res.reason as MeshpartyError;
        if (LEFT_CODES.has(err?.code)) return;
        failed[ids[i]!] = err?.code ?? 'error';
        first ??= err;
      });
      if (first) throw new MeshpartyError(first.code, `not sent to ${Object.keys(failed).length} of ${ids.length} peers: ${first.message}`, { failed });
    },
    queuedOn(ch, to) {
      return remotes.get(to)?.conn?.queue?.queuedBytes(ch.id) ?? 0;
    },
    used(ch, inUse) {
      if (inUse) channelsById.set(ch.id, ch);
      else channelsById.delete(ch.id);
    },
  };

  const channel = (name: string, o?: { reliability?: Reliability }): Channel => {
    const reliability = o?.reliability ?? 'reliable';
    const existing = channels.get(name)?.deref();
    if (existing) {
      if (o?.reliability && existing.reliability !== reliability) {
        throw new MeshpartyError('channel-reliability-mismatch', `channel "${name}" is already ${existing.reliability}`);
      }
      return existing;
    }
    const ch = new MeshChannel(name, reliability, host);
    const clash = ids.get(ch.id)?.deref();
    if (clash) throw new MeshpartyError('channel-id-collision', `channel names "${name}" and "${clash.name}" hash to the same id; rename one`);
    channels.set(name, new WeakRef(ch));
    ids.set(ch.id, new WeakRef(ch));
    collected.register(ch, { name, id: ch.id });
    return ch;
  };

  return channel;
}
