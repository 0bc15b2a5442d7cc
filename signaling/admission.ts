/**
 * Who may open a WebSocket: the Origin allowlist, the total connection cap and the cap
 * per client address. Keeps the per-address counts; the server reports opens and closes.
 */
import type { IncomingMessage } from 'node:http';
import { CLOSE_CODES, type RelayErrorCode } from '../src/signaling-client/protocol.js';
import type { ResolvedOptions } from './options.js';

/** Why a connection is refused, and how to close it. */
export interface Refusal {
  code: RelayErrorCode;
  close: number;
  message: string;
}

/** Connection admission for one relay instance (internal to `signaling/`). */
export class Admission {
  readonly #perAddress = new Map<string, number>();

  constructor(private readonly options: ResolvedOptions) {}

  /** The refusal for a new connection from `address` while `open` are open, or undefined to admit it. */
  check(req: IncomingMessage, address: string, open: number): Refusal | undefined {
    const { allowedOrigins, maxConnections, maxConnectionsPerIp } = this.options;
    if (allowedOrigins && !allowedOrigins.has(req.headers.origin ?? '')) {
      return { code: 'origin-not-allowed', close: CLOSE_CODES.policyViolation, message: 'Origin not allowed' };
    }
    if (open >= maxConnections) {
      return { code: 'server-full', close: CLOSE_CODES.tryAgainLater, message: 'relay is full; try again later' };
    }
    if ((this.#perAddress.get(address) ?? 0) >= maxConnectionsPerIp) {
      return { code: 'too-many-connections-from-ip', close: CLOSE_CODES.policyViolation, message: 'too many connections from your address' };
    }
    return undefined;
  }

  opened(address: string): void {
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
  }

  closed(address: string): void {
    const left = (this.#perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(address, left);
    else this.#perAddress.delete(address);
  }
}
