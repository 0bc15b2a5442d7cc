/**
 * For Node command-line programs that must outlive their output's reader.
 *
 * A console write to a pipe nobody reads any more (`| head -1`, a supervisor that closed
 * it) fails with EPIPE after write() returned, as an 'error' event on the stream; unheard,
 * that event ends the process with code 1. Console writes are courtesy output: losing them
 * must not take a relay or a keeper down.
 */

/** The one listener, so calling this again adds none. */
const dropError = (): void => {};

/** What this needs of a stream: Node's writable streams have it. */
export interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown;
  listeners(event: 'error'): unknown[];
}

/**
 * Hear (and drop) write errors on `streams`, by default stdout and stderr. One shared
 * listener, added once per stream however often this is called (a relay's logger and
 * the CLI around it both call it for stderr).
 *
 * @example
 * ```ts
 * keepRunningWhenOutputCloses(); // first thing in a CLI's run()
 * console.log('listening'); // a closed stdout no longer ends the process
 * ```
 */
export function keepRunningWhenOutputCloses(streams: ErrorEmitter[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) if (!stream.listeners('error').includes(dropError)) stream.on('error', dropError);
}
