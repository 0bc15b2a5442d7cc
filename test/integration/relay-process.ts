/**
 * A relay in its own process, so an integration test can SIGKILL it (no goodbye frames,
 * sockets just die) and start it again on the same port. Prints `listening <url>` once up.
 * Usage: node --import tsx test/integration/relay-process.ts <port>
 */
import { createSignalingServer, silentLogger } from '../../signaling/index.js';

const port = Number(process.argv[2] ?? 0);
const relay = await createSignalingServer({ host: '127.0.0.1', port, logger: silentLogger });
console.log(`listening ${relay.address.url}`);
