/**
 * Run `attempt` until it returns a value, at most `tries` times; throws `Error(failure)`
 * when none did. For real-WebRTC setups that the stack now and then kills while they
 * connect (libdatachannel closes about 1 connection in 150 on a loaded machine; the mesh
 * retries such a pair too), so a test about an open pair can start over.
 */
export async function firstSuccess<T>(tries: number, attempt: () => Promise<T | undefined>, failure: string): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
  }
  throw new Error(failure);
}
