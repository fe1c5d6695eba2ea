/**
 * pcapng block and option codes (draft-ietf-opsawg-pcapng). Every block is: type (4), total length
 * (4), body, total length again (4); lengths are multiples of 4 and numbers use the byte order the
 * section header's byte-order magic (0x1a2b3c4d) was written in. Options are code (2), length (2),
 * value padded to 4 bytes, ended by code 0.
 */
export const Block = {
  SECTION_HEADER: 0x0a0d0d0a,
  INTERFACE_DESCRIPTION: 0x00000001,
  /** Obsolete Packet Block, still read. */
  PACKET: 0x00000002,
  SIMPLE_PACKET: 0x00000003,
  NAME_RESOLUTION: 0x00000004,
  INTERFACE_STATISTICS: 0x00000005,
  ENHANCED_PACKET: 0x00000006,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const Option = {
  END: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
  EPB_FLAGS: 2,
  EPB_PROCESSID_THREADID: 8,
  ISB_STARTTIME: 2,
  ISB_ENDTIME: 3,
  ISB_IFRECV: 4,
  ISB_IFDROP: 5,
  ISB_FILTERACCEPT: 6,
  ISB_OSDROP: 7,
  ISB_USRDELIV: 8,
} as const;

/** Name Resolution Block record types. */
export const NameRecord = { END: 0, IPV4: 1, IPV6: 2 } as const;

/** Larger blocks are taken for corruption (Wireshark uses the same 16 MiB bound). */
export const MAX_BLOCK = 16 * 1024 * 1024;
