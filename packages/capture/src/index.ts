export { addressText, ipv4Text, ipv6Text } from './decode/address';
export { decodePacket } from './decode/decode';
export type { DecodeError, DecodeLayer } from './decode/errors';
export { EtherType, IpProtocol, LinkType, linkTypeOfDlt } from './decode/link-types';
export { DecodedPacket } from './decode/packet';
export { CaptureError, type CaptureErrorCode } from './errors';
export { type ByteSink, FileDescriptorSink, MemorySink } from './files/output';
export { CaptureFileParser } from './files/parser';
export { type PacketToWrite, PcapWriter, type PcapWriterOptions } from './files/pcap-writer';
export {
  type PcapngInterface,
  type PcapngInterfaceStatistics,
  type PcapngPacketToWrite,
  PcapngWriter,
  type PcapngWriterOptions,
} from './files/pcapng-writer';
export {
  type CaptureFileSummary,
  parseCaptureFile,
  parseCaptureFileSync,
  readPackets,
} from './files/read-file';
export { type CaptureFileInfo, type CaptureInterface, copyRecord, PacketRecord } from './files/record';
export { type Endpoint, type Flow, type FlowEndReason, protocolName, TcpFlag, TcpSeen } from './flows/flow';
export { FlowTable, type FlowTableOptions, type FlowTableStats } from './flows/flow-table';
export { LocalAddresses, machineAddresses } from './flows/local-addresses';
export {
  type DnsAnswer,
  type DnsLimits,
  type DnsMessage,
  type DnsQuestion,
  DnsType,
  decodeDns,
  isDnsPort,
} from './inspect/dns';
export { DnsNames, type DnsNamesOptions, type DnsNamesStats } from './inspect/dns-names';
export {
  FlowNames,
  type FlowNamesOptions,
  type FlowNamesStats,
  type NameSource,
  type RemoteName,
  remoteAddressOf,
} from './inspect/flow-names';
export { decodeHttpHost, MAX_REQUEST_HEAD } from './inspect/http';
export {
  type CryptoData,
  clientInitialKeys,
  decryptClientInitial,
  type InitialKeys,
  QuicClientHello,
  quicClientHello,
} from './inspect/quic';
export { type ClientHello, decodeClientHello, MAX_CLIENT_HELLO, readClientHello } from './inspect/tls';
export type { BackendKind, KernelCounters } from './live/backend';
export { type CaptureDevice, type DeviceAddress, defaultDevice, listDevices } from './live/devices';
export {
  type CaptureStats,
  type DeviceStats,
  LiveCapture,
  type LiveCaptureOptions,
} from './live/live-capture';
export type { LivePacket } from './live/packet';
export { type HelperThreadsHold, holdHelperThreads } from './live/threads/helper-threads';
export { holdReaderCpu, type ReaderCpuHold } from './live/threads/reader-cpu';
export { WallClock, wallClock } from './live/wall-clock';
export { version } from './version';
