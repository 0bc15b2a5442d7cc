// Preloaded (`node --require listen-on-loopback.cjs server.js`) into third-party servers
// that a benchmark or test runs unchanged but that listen on every interface when given
// only a port (y-webrtc's bin/server.js does `server.listen(port)`). It makes such a
// listen bind 127.0.0.1, so test traffic stays on loopback and nothing is exposed to
// the network. Listens that name a host, a path or a handle are left alone.
'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
net.Server.prototype.listen = function (...args) {
  if (isPort(args[0]) && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  else if (args[0] && typeof args[0] === 'object' && isPort(args[0].port) && !args[0].host && !args[0].path) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
