// Runs under Wine's node.exe: opens a TCP listener, a client connection to it and a UDP socket,
// then asks the Windows backend (the built CommonJS bundle) about them. Writes JSON to argv[2]
// (node.exe under Wine cannot write to a Unix pipe).
const fs = require('node:fs');
const net = require('node:net');
const dgram = require('node:dgram');
const api = require('./listeners.cjs');

const out = process.argv[2];
const result = { pid: process.pid, execPath: process.execPath };
const server = net.createServer(() => {});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const client = net.connect(port, '127.0.0.1', () => {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1', async () => {
      try {
        result.ports = { listen: port, client: client.localPort, udp: udp.address().port };
        const t0 = Date.now();
        const scan = await api.scan();
        result.scanMs = Date.now() - t0;
        result.summary = scan.summary;
        result.sample = scan.listeners.filter((l) =>
          [port, client.localPort, udp.address().port].includes(l.socket.port),
        );
        result.allValid = scan.listeners.every(
          (l) => (l.process || l.unowned) && ['TCP', 'UDP'].includes(l.protocol) && l.socket.port >= 0,
        );
        result.udpOwner = await api
          .getProcessByPort(udp.address().port, 'UDP')
          .catch((e) => ({ error: e.code }));
        result.listenOwner = await api.getProcessByPort(port, 'TCP').catch((e) => ({ error: e.code }));
        result.byPid = (await api.getByPid(process.pid)).map((l) => `${l.protocol}:${l.socket.port}`);
        result.badPort = await api.getProcessByPort(0, 'TCP').catch((e) => e.code);
        result.isSupported = api.isSupported;
      } catch (e) {
        result.error = String(e?.stack ? e.stack : e);
      }
      fs.writeFileSync(out, JSON.stringify(result));
      process.exit(0);
    });
  });
});
