/**
 * A process that stops the way the keeper CLI does (`watchStopSignals`) but whose close
 * never ends, like one stuck on a hung disk: the test sends a second signal to it.
 */
import { watchStopSignals } from '../../../src/yjs/keeper/stop-signals.js';

const stop = watchStopSignals();
setInterval(() => {}, 60_000); // the close that never ends keeps the process up
console.log('ready');
void stop.stopped.then(() => console.log(`closing after ${String(stop.signal.reason)}`));
