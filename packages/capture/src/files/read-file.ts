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
  const file = await open(path, 'r').catch((error: unknown) => {
    throw fileError(path, error);
  });
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      parser.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  parser.end();
  return { info: parser.info, packets: parser.packets, bytes: parser.bytes };
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
  return { info: parser.info, packets: parser.packets, bytes: parser.bytes };
}

/**
 * The packets of a capture file as an async iterable of records that own their bytes: the easy
 * way (`for await (const packet of readPackets('x.pcapng'))`), at the cost of a copy per packet.
 */
export async function* readPackets(path: string): AsyncGenerator<PacketRecord, CaptureFileSummary> {
  const parser = new CaptureFileParser((record) => batch.push(copyRecord(record)));
  let batch: PacketRecord[] = [];
  const file = await open(path, 'r').catch((error: unknown) => {
    throw fileError(path, error);
  });
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      parser.push(buffer.subarray(0, bytesRead));
      const ready = batch;
      batch = [];
      yield* ready;
    }
  } finally {
    await file.close();
  }
  parser.end();
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
