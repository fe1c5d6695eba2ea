import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

/**
 * Known traffic on loopback: `udpDatagrams` datagrams of `udpSize` payload bytes to a port nobody
 * need listen on, and one TCP connection that sends `tcpBytes` and gets them echoed back. Returns
 * the ports used, so captures can be checked against what was sent.
 */
export async function makeLoopbackTraffic(options: {
  host?: string;
  udpDatagrams?: number;
  udpSize?: number;
  tcpBytes?: number;
}): Promise<{ udpSourcePort: number; udpPort: number; tcpClientPort: number; tcpServerPort: number }> {
  const host = options.host ?? '127.0.0.1';
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const receiver = createSocket(family);
  await new Promise<void>((resolve) => receiver.bind(0, host, resolve));
  const udpPort = receiver.address().port;
  const sender = createSocket(family);
  await new Promise<void>((resolve) => sender.bind(0, host, resolve));
  const udpSourcePort = sender.address().port;
  // Lockstep: each datagram is sent once the previous one arrived, so no receive buffer overflows
  // and every datagram sent is a datagram on the wire exactly once.
  const payload = Buffer.alloc(options.udpSize ?? 100, 0x61);
  for (let i = 0; i < (options.udpDatagrams ?? 0); i++) {
    const arrived = new Promise<void>((resolve) => receiver.once('message', () => resolve()));
    sender.send(payload, udpPort, host);
    await arrived;
  }
  sender.close();
  receiver.close();

  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const tcpServerPort = (server.address() as { port: number }).port;
  let tcpClientPort = 0;
  const tcpBytes = options.tcpBytes ?? 0;
  if (tcpBytes > 0) {
    await new Promise<void>((resolve, reject) => {
      const client = connect(tcpServerPort, host, () => {
        tcpClientPort = client.localPort ?? 0;
        client.write(Buffer.alloc(tcpBytes, 0x62));
      });
      let echoed = 0;
      client.on('data', (d) => {
        echoed += d.length;
        if (echoed >= tcpBytes) client.end();
      });
      client.on('close', () => resolve());
      client.on('error', reject);
    });
  }
  await new Promise((resolve) => server.close(resolve));
  return { udpSourcePort, udpPort, tcpClientPort, tcpServerPort };
}
