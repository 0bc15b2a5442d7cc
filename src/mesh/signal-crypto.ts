/**
 * End-to-end encryption of signal payloads for password-protected rooms, so the relay
 * only ever sees ciphertext (SDP and ICE candidates reveal addresses).
 *
 * Key: PBKDF2-SHA-256 (100,000 iterations) over the password, salted with
 * `"meshparty/v1/signal/" + room`, giving an AES-GCM-256 key; derived once per room.
 * Message: AES-GCM with a random 96-bit IV; the additional data is `from + "\n" + to`,
 * so a ciphertext cannot be replayed by another member or towards another peer.
 * Wire form: base64url(iv || ciphertext+tag), one string.
 * Only WebCrypto (`globalThis.crypto.subtle`) is used: Node 20 and browsers.
 */
const utf8 = new TextEncoder();
const IV_BYTES = 12;
const PBKDF2_ITERATIONS = 100_000;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available: a room password needs a secure context');
  return s;
}

/**
 * Derive the signal key of a room from its password.
 *
 * @example
 * ```ts
 * const key = await deriveSignalKey('hunter2', 'my-room');
 * const text = await sealSignal(key, 'alice', 'bob', { s: '1', d: offer });
 * const back = await openSignal(key, 'alice', 'bob', text); // throws with another key
 * ```
 */
export async function deriveSignalKey(password: string, room: string): Promise<CryptoKey> {
  const base = await subtle().importKey('raw', utf8.encode(password), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: utf8.encode(`meshparty/v1/signal/${room}`), iterations: PBKDF2_ITERATIONS },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

const aad = (from: string, to: string) => utf8.encode(`${from}\n${to}`);

/** Encrypt a JSON-serialisable value sent by `from` to `to`; returns the wire string. */
export async function sealSignal(key: CryptoKey, from: string, to: string, value: unknown): Promise<string> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad(from, to) }, key, utf8.encode(JSON.stringify(value))),
  );
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return toBase64Url(out);
}

/** Decrypt a wire string; throws when it was not sealed with this key for this pair. */
export async function openSignal(key: CryptoKey, from: string, to: string, text: string): Promise<unknown> {
  const bytes = fromBase64Url(text);
  if (bytes.byteLength < IV_BYTES + 16) throw new Error('ciphertext too short');
  const plain = await subtle().decrypt(
    { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: aad(from, to) },
    key,
    bytes.subarray(IV_BYTES),
  );
  return JSON.parse(new TextDecoder().decode(plain));
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.byteLength; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
