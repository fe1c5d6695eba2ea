import { INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE } from './constants';
import { INET_DIAG_BC_OP } from './structs';

/**
 * An inet_diag filter program (INET_DIAG_REQ_BYTECODE) that keeps only sockets whose local port is
 * `port`, so the kernel does the filtering and sends back just those rows.
 *
 * The kernel runs ops from the start: a true condition jumps `yes` bytes ahead, a false one `no`
 * bytes. Landing exactly on the end accepts the socket; landing 4 bytes past it rejects it
 * (net/ipv4/inet_diag.c, inet_diag_bc_run). Each port comparison is two ops: the condition, then an
 * operand op whose `no` field holds the port. We use S_GE + S_LE rather than S_EQ, which only
 * kernels from 4.17 know.
 */
export function localPortFilter(port: number): Buffer {
  const op = INET_DIAG_BC_OP.size;
  const length = 4 * op;
  const reject = length + 4;
  const program = Buffer.alloc(length);
  const write = (at: number, code: number, yes: number, no: number) => {
    program[at + INET_DIAG_BC_OP.code] = code;
    program[at + INET_DIAG_BC_OP.yes] = yes;
    program.writeUInt16LE(no, at + INET_DIAG_BC_OP.no);
  };
  write(0, INET_DIAG_BC_S_GE, 2 * op, reject); // sport >= port ? go to the next test : reject
  write(op, 0, 0, port);
  write(2 * op, INET_DIAG_BC_S_LE, 2 * op, reject - 2 * op); // sport <= port ? accept (end) : reject
  write(3 * op, 0, 0, port);
  return program;
}
