import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomToken, verifyRoomToken } from '../../signaling/index.js';
import { startRelay } from './client.js';

type Relay = Awaited<ReturnType<typeof startRelay>>;
let current: Relay | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

const SECRET = 'test-secret-do-not-use';
const T0 = Date.UTC(2030, 0, 1);

describe('room tokens', () => {
  it('verify: valid, expired, wrong room, forged, tampered, missing, malformed', () => {
    const now = (): number => T0;
    const token = createRoomToken({ secret: SECRET, room: 'r', expiresInSeconds: 60, now });
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token, nowMs: T0 })).toBeNull();
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token, nowMs: T0 + 59_000 })).toBeNull();
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token, nowMs: T0 + 60_000 })).toBe('token-expired');
    expect(verifyRoomToken({ secret: SECRET, room: 'other', token, nowMs: T0 })).toBe('token-wrong-room');
    const forged = createRoomToken({ secret: 'not-the-secret', room: 'r', expiresInSeconds: 60, now });
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token: forged, nowMs: T0 })).toBe('token-invalid');
    // Swap the payload for another room, keeping the signature: the HMAC no longer matches.
    const [, sig] = token.split('.');
    const otherPayload = Buffer.from(JSON.stringify({ room: 'other', exp: T0 / 1000 + 60 })).toString('base64url');
    expect(verifyRoomToken({ secret: SECRET, room: 'other', token: `${otherPayload}.${sig}`, nowMs: T0 })).toBe('token-invalid');
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token: undefined })).toBe('token-required');
    for (const junk of ['abc', 'a.b.c', '.x', 'x.', 42, 'x'.repeat(5000)]) {
      expect(verifyRoomToken({ secret: SECRET, room: 'r', token: junk, nowMs: T0 }), String(junk)).toBe('token-invalid');
    }
    // A correctly signed payload of the wrong shape is still refused.
    const badShape = Buffer.from(JSON.stringify({ room: 'r', exp: 'soon' })).toString('base64url');
    const badSig = createHmac('sha256', SECRET).update(badShape).digest('base64url');
    expect(verifyRoomToken({ secret: SECRET, room: 'r', token: `${badShape}.${badSig}`, nowMs: T0 })).toBe('token-invalid');
  });

  it('expiresAt and expiresInSeconds agree', () => {
    const a = createRoomToken({ secret: SECRET, room: 'r', expiresInSeconds: 10, now: () => T0 });
    const b = createRoomToken({ secret: SECRET, room: 'r', expiresAt: new Date(T0 + 10_000) });
    expect(a).toBe(b);
    expect(() => createRoomToken({ secret: SECRET, room: 'r' })).toThrow(/expires/);
  });

  it('the relay admits exactly the valid tokens', async () => {
    let now = T0;
    current = await startRelay({ secret: SECRET, now: () => now });
    const a = await current.connect();
    const valid = createRoomToken({ secret: SECRET, room: 'r', expiresInSeconds: 60, now: () => T0 });
    expect(await a.join('r')).toMatchObject({ type: 'error', code: 'token-required', room: 'r' });
    expect(await a.join('other', { token: valid })).toMatchObject({ type: 'error', code: 'token-wrong-room' });
    const forged = createRoomToken({ secret: 'guess', room: 'r', expiresInSeconds: 60, now: () => T0 });
    expect(await a.join('r', { token: forged })).toMatchObject({ type: 'error', code: 'token-invalid' });
    expect(await a.join('r', { token: valid })).toMatchObject({ type: 'joined', room: 'r' });
    now = T0 + 61_000;
    const b = await current.connect();
    expect(await b.join('r', { token: valid })).toMatchObject({ type: 'error', code: 'token-expired' });
    expect(current.relay.metrics().rejections).toMatchObject({
      'token-required': 1,
      'token-wrong-room': 1,
      'token-invalid': 1,
      'token-expired': 1,
    });
  });

  it('refuses an empty secret instead of running without tokens (`--secret "$UNSET"`)', async () => {
    await expect(startRelay({ secret: '' })).rejects.toThrow(/secret must not be empty/);
  });

  it('with a secret, y-webrtc topics are refused unless allowUnauthenticatedTopics', async () => {
    current = await startRelay({ secret: SECRET });
    const a = await current.connect();
    a.send({ type: 'subscribe', topics: ['t'] });
    expect(await a.nextOf('error')).toMatchObject({ code: 'token-required' });
    a.send({ type: 'publish', topic: 't', data: 1 });
    expect(await a.nextOf('error')).toMatchObject({ code: 'token-required' });
    await current.stop();

    current = await startRelay({ secret: SECRET, allowUnauthenticatedTopics: true });
    const b = await current.connect();
    b.send({ type: 'subscribe', topics: ['t'] });
    b.send({ type: 'publish', topic: 't', data: 1 });
    expect(await b.next()).toEqual({ type: 'publish', topic: 't', data: 1, clients: 1 });
  });
});
