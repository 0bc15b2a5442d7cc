/** Human words for the MeshpartyError codes a chat user can run into. */
export function errorText(code: string, message: string, relay: string): string {
  switch (code) {
    case 'wrong-password':
      return 'Wrong password: the peers in this room use a different one. Check the invite link.';
    case 'room-full':
      return 'This room is full. Try another room name.';
    case 'relay-unreachable':
      return `Cannot reach the relay at ${relay}. Is it running (npm start)?`;
    case 'token-required':
    case 'token-invalid':
    case 'token-expired':
    case 'token-wrong-room':
      return `The relay refused this room (${code}).`;
    case 'webrtc-unsupported':
      return 'This browser has no WebRTC, which the chat needs.';
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
    default:
      return `The relay refused the connection (${code}).`;
  }
}
