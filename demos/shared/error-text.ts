/**
 * Human words for the MeshpartyError codes a demo user can run into (relay codes:
 * PROTOCOL.md). Shared by the chat and editor demos so both say the same thing; a code
 * not listed here is shown with the library's own message.
 */
export function errorText(code: string, message: string, relay: string): string {
  switch (code) {
    case 'wrong-password':
      return 'Wrong password: the peers in this room use a different one. Check the invite link.';
    case 'room-full':
      return 'This room is full. Try another room name.';
    case 'room-name-invalid':
      return 'The relay does not accept this room name. Try a shorter one.';
    case 'relay-unreachable':
      return `Cannot reach the relay at ${relay}. Is it running (npm start)?`;
    case 'token-required':
    case 'token-invalid':
    case 'token-expired':
    case 'token-wrong-room':
      return `The relay needs a valid room token for this room (${code}).`;
    case 'origin-not-allowed':
      return 'The relay does not accept connections from this page (origin-not-allowed).';
    case 'abuse':
      return 'The relay cut this page off for sending too many bad messages.';
    case 'webrtc-unsupported':
      return 'This browser has no WebRTC, which the demo needs.';
    case 'transport-failed':
      // Raised when this browser will not even create a peer connection (WebRTC turned
      // off by a setting or an extension, or too many connections open): local, not the
      // other person's fault.
      return 'Cannot connect to someone here: this browser would not start a WebRTC connection (turned off by a setting or an extension?).';
    case 'crypto-unavailable':
      return 'This page cannot encrypt (it needs https or localhost for a room password).';
    default:
      return `${code}: ${message}`;
  }
}

/** Human words for a relay's refusal of the connection itself (a room's `relay-refused` event). */
export function refusalText(code: string): string {
  switch (code) {
    case 'server-full':
      return 'The relay is full.';
    case 'too-many-connections-from-ip':
      return 'The relay takes no more connections from this address.';
    case 'rate-limited':
      return 'Too many joins from this network just now.';
    default:
      return `The relay refused the connection (${code}).`;
  }
}
