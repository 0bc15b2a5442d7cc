/** Lockstep games: engine, codecs, session over the mesh, replays, sync-test. */
export { ByteReader, ByteWriter } from './bytes.js';
export { fnv1a32 } from './hash.js';
export { rngInt, rngNext, rngSeed } from './rng.js';
export { bitfieldInput, bytesInput, type Buttons, type InputCodec } from './input.js';
export { defineGame, type Game, type GameDefinition, type StepContext } from './game.js';
export { Simulation, type SteppedFrame } from './simulation.js';
export { syncTest, type SyncTestOptions, type SyncTestResult } from './sync-test.js';
export { decodeRecording, encodeRecording, playReplay, Recorder, type RecordedFrame, type Recording, type ReplayResult } from './replay.js';
export type { RecordingLimits, RecordingTruncation } from './recording-limits.js';
export type { PeerId } from '../mesh/types.js';
export { createLockstepSession } from './session.js';
export type { LockstepEvents, LockstepSession, LockstepSessionOptions, LockstepStats } from './session-api.js';
export type { Role } from './wire.js';
