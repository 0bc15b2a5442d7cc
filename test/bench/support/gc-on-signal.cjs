// Preloaded (`node --expose-gc --require gc-on-signal.cjs server.js`) into every server
// process a benchmark measures, whatever the server: on SIGUSR2 it runs a full garbage
// collection, so memory read from outside afterwards is live data, not uncollected
// garbage. It changes nothing else about the server. (CommonJS: --require needs it.)
'use strict';
if (typeof global.gc === 'function') {
  process.on('SIGUSR2', () => global.gc());
}
