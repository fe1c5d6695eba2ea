// Byte layouts of the iphlpapi and Toolhelp structs read here, for 64-bit Windows. DWORDs are
// little-endian; addresses and the port (in the low 16 bits of its DWORD) are in network order.

/** MIB_TCPTABLE_OWNER_PID (tcpmib.h): DWORD dwNumEntries, then MIB_TCPROW_OWNER_PID rows. */
export const TCP4_TABLE = { rows: 4 } as const;
/** MIB_TCPROW_OWNER_PID (tcpmib.h): dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid. */
export const TCP4_ROW = {
  size: 24,
  state: 0,
  localAddr: 4,
  localPort: 8,
  remoteAddr: 12,
  remotePort: 16,
  pid: 20,
} as const;

/** MIB_TCP6TABLE_OWNER_PID (tcpmib.h): DWORD dwNumEntries, then MIB_TCP6ROW_OWNER_PID rows. */
export const TCP6_TABLE = { rows: 4 } as const;
/**
 * MIB_TCP6ROW_OWNER_PID (tcpmib.h): UCHAR ucLocalAddr[16], DWORD dwLocalScopeId, DWORD dwLocalPort,
 * UCHAR ucRemoteAddr[16], DWORD dwRemoteScopeId, DWORD dwRemotePort, DWORD dwState, DWORD dwOwningPid.
 */
export const TCP6_ROW = {
  size: 56,
  localAddr: 0,
  localPort: 20,
  remoteAddr: 24,
  remotePort: 44,
  state: 48,
  pid: 52,
} as const;

/** MIB_UDPTABLE_OWNER_PID (udpmib.h): DWORD dwNumEntries, then MIB_UDPROW_OWNER_PID rows. */
export const UDP4_TABLE = { rows: 4 } as const;
/** MIB_UDPROW_OWNER_PID (udpmib.h): DWORD dwLocalAddr, DWORD dwLocalPort, DWORD dwOwningPid. */
export const UDP4_ROW = { size: 12, localAddr: 0, localPort: 4, pid: 8 } as const;

/** MIB_UDP6TABLE_OWNER_PID (udpmib.h): DWORD dwNumEntries, then MIB_UDP6ROW_OWNER_PID rows. */
export const UDP6_TABLE = { rows: 4 } as const;
/** MIB_UDP6ROW_OWNER_PID (udpmib.h): UCHAR ucLocalAddr[16], DWORD dwLocalScopeId, DWORD dwLocalPort, DWORD dwOwningPid. */
export const UDP6_ROW = { size: 28, localAddr: 0, localPort: 20, pid: 24 } as const;

/**
 * PROCESSENTRY32W (tlhelp32.h) on x64: DWORD dwSize, DWORD cntUsage, DWORD th32ProcessID, (4 bytes
 * padding), ULONG_PTR th32DefaultHeapID, DWORD th32ModuleID, DWORD cntThreads, DWORD
 * th32ParentProcessID, LONG pcPriClassBase, DWORD dwFlags, WCHAR szExeFile[260]. 568 bytes.
 */
export const PROCESSENTRY32W = {
  size: 568,
  dwSize: 0,
  pid: 8,
  parentPid: 32,
  exeFile: 44,
  exeFileChars: 260,
} as const;

/** TCP_TABLE_CLASS (iprtrmib.h) TCP_TABLE_OWNER_PID_ALL, UDP_TABLE_CLASS UDP_TABLE_OWNER_PID. */
export const TCP_TABLE_OWNER_PID_ALL = 5;
export const UDP_TABLE_OWNER_PID = 1;
export const AF_INET = 2;
export const AF_INET6 = 23;
export const NO_ERROR = 0;
export const ERROR_INSUFFICIENT_BUFFER = 122;
export const TH32CS_SNAPPROCESS = 0x2;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
