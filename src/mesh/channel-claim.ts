/**
 * Who holds a channel (see `Channel.claim`): at most one user of its messages at a time.
 */
import { MeshpartyError } from '../util/errors.js';

/**
 * The claim of one channel. Each claim gets its own token, so the release of an old
 * claim, called late or twice, can never free a newer one.
 *
 * @example
 * ```ts
 * const claim = new ChannelClaim('media');
 * const release = claim.take('a media share');
 * claim.take('another share'); // throws channel-in-use
 * release();
 * ```
 */
export class ChannelClaim {
  #holder: { by: string } | undefined;

  constructor(private readonly channelName: string) {}

  /** Take the channel for `by`; throws `channel-in-use` while another holds it. Returns the release function. */
  take(by: string): () => void {
    if (this.#holder) {
      const holder = this.#holder.by;
      throw new MeshpartyError('channel-in-use', `channel "${this.channelName}" of this room is already used by ${holder}`, { channel: this.channelName, by: holder });
    }
    const token = { by };
    this.#holder = token;
    return () => {
      if (this.#holder === token) this.#holder = undefined;
    };
  }
}
