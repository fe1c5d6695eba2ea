// The library side of the live benchmark: LiveCapture + decode + flow table on lo, no file.
//   node live-child.mjs FILTER [immediate]   (HELPER_THREADS=batch|unchanged sets LiveCapture's helperThreads)
// Prints "ready" once capturing; on SIGINT drains what the kernel holds, prints JSON and exits.
import { DecodedPacket, decodePacket, FlowTable, LiveCapture } from '../dist/index.js';

const capture = LiveCapture.open({
  device: 'lo',
  filter: process.argv[2] ?? 'udp dst port 9',
  snapLength: 128,
  bufferSize: 64 << 20,
  immediate: process.argv[3] === 'immediate',
  ...(process.env.HELPER_THREADS && { helperThreads: process.env.HELPER_THREADS }),
});
const decoded = new DecodedPacket();
const flows = new FlowTable({ localAddresses: ['127.0.0.1'] });
capture.on('packet', (p) => {
  decodePacket(p.buffer, p.linkType, decoded, p.offset, p.offset + p.length);
  flows.add(decoded, p.seconds * 1000 + p.nanoseconds / 1e6, p.wireLength);
});
process.on('SIGINT', async () => {
  await capture.drain(2000);
  const stats = capture.stats();
  capture.close();
  process.stdout.write(
    `${JSON.stringify({ captured: stats.delivered, dropped: stats.kernelDropped + stats.netwhoDropped, backend: stats.backend })}\n`,
  );
  process.exit(0);
});
process.stdout.write('ready\n');
