import koffi from 'koffi';

/** The Win32 calls the Windows backend makes, bound once on first use. */
export interface Win32 {
  GetExtendedTcpTable(
    table: Buffer,
    size: [number],
    order: number,
    af: number,
    tableClass: number,
    reserved: number,
  ): number;
  GetExtendedUdpTable(
    table: Buffer,
    size: [number],
    order: number,
    af: number,
    tableClass: number,
    reserved: number,
  ): number;
  CreateToolhelp32Snapshot(flags: number, pid: number): unknown;
  Process32FirstW(snapshot: unknown, entry: Buffer): number;
  Process32NextW(snapshot: unknown, entry: Buffer): number;
  OpenProcess(access: number, inherit: number, pid: number): unknown;
  QueryFullProcessImageNameW(process: unknown, flags: number, name: Buffer, size: [number]): number;
  CloseHandle(handle: unknown): number;
}

let bound: Win32 | undefined;

export function win32(): Win32 {
  if (bound) return bound;
  const iphlpapi = koffi.load('iphlpapi.dll');
  const kernel32 = koffi.load('kernel32.dll');
  bound = {
    GetExtendedTcpTable: iphlpapi.func(
      'uint32_t __stdcall GetExtendedTcpTable(void *table, _Inout_ uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
    ),
    GetExtendedUdpTable: iphlpapi.func(
      'uint32_t __stdcall GetExtendedUdpTable(void *table, _Inout_ uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
    ),
    CreateToolhelp32Snapshot: kernel32.func(
      'void * __stdcall CreateToolhelp32Snapshot(uint32_t flags, uint32_t pid)',
    ),
    Process32FirstW: kernel32.func('int __stdcall Process32FirstW(void *snapshot, void *entry)'),
    Process32NextW: kernel32.func('int __stdcall Process32NextW(void *snapshot, void *entry)'),
    OpenProcess: kernel32.func('void * __stdcall OpenProcess(uint32_t access, int inherit, uint32_t pid)'),
    QueryFullProcessImageNameW: kernel32.func(
      'int __stdcall QueryFullProcessImageNameW(void *process, uint32_t flags, void *name, _Inout_ uint32_t *size)',
    ),
    CloseHandle: kernel32.func('int __stdcall CloseHandle(void *handle)'),
  } as Win32;
  return bound;
}

/** INVALID_HANDLE_VALUE ((HANDLE)-1) or NULL. */
export function isBadHandle(handle: unknown): boolean {
  if (!handle) return true;
  const address = koffi.address(handle);
  return address === 0n || address === 0xffffffffffffffffn;
}
