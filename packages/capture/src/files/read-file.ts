import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CaptureError } from '../errors';
import { CaptureFileParser } from './parser';
import { type CaptureFileInfo, copyRecord, type PacketRecord } from './record';

/** Read size: large enough that per-read costs vanish, small enough to stay in cache. */
const CHUNK = 1024 * 1024;

export interface CaptureFileSummary {
  info: CaptureFileInfo;
  packets: number;
  bytes: number;
}

/**
 * Reads the pcap or pcapng file at `path`, calling `onPacket` for each packet with a record that is
 * reused (copy what you keep). The file is read in 1 MiB chunks, never whole. Throws CaptureError
 * E_FILE_FORMAT for a file that is not a capture or is corrupt, E_FILE_TRUNCATED after the last
 * complete packet of a cut file.
 */
export async function parseCaptureFile(
  path: string,
  onPacket: (record: PacketRecord) => void,
): Promise<CaptureFileSummary> {
  const parser = new CaptureFileParser(onPacket);
  for await (const chunk of fileChunks(path)) parser.push(chunk);
  parser.end();
  return summaryOf(parser);
}

/** The same as parseCaptureFile, synchronously (for scripts and benchmarks). */
export function parseCaptureFileSync(
  path: string,
  onPacket: (record: PacketRecord) => void,
): CaptureFileSummary {
  const parser = new CaptureFileParser(onPacket);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(fd, buffer, 0, CHUNK, null); n > 0; n = readSync(fd, buffer, 0, CHUNK, null)) {
      parser.push(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  parser.end();
  return summaryOf(parser);
}

/**
 * The packets of a capture file as an async iterable of records that own their bytes: the easy
 * way (`for await (const packet of readPackets('x.pcapng'))`), at the cost of a copy per packet.
 */
export async function* readPackets(path: string): AsyncGenerator<PacketRecord, CaptureFileSummary> {
  let batch: PacketRecord[] = [];
  const parser = new CaptureFileParser((record) => batch.push(copyRecord(record)));
  for await (const chunk of fileChunks(path)) {
    parser.push(chunk);
    const ready = batch;
    batch = [];
    yield* ready;
  }
  parser.end();
  return summaryOf(parser);
}

/** The file at `path` in CHUNK-sized pieces; each piece is valid until the next is asked for. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r').catch((error: unknown) => {
    throw fileError(path, error);
  });
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function summaryOf(parser: CaptureFileParser): CaptureFileSummary {
  return { info: parser.info, packets: parser.packets, bytes: parser.bytes };
}

function fileError(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new CaptureError('E_INVALID_ARGUMENT', `no such file: ${path}`, { cause: error });
  if (code === 'EACCES')
    return new CaptureError('E_PERMISSION', `cannot read ${path}: permission denied`, { cause: error });
  return error;
}
