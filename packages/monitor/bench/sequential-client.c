/*
 * Short exchanges as a small C program makes them, one after another, to a local server:
 *   sequential-client tcp PORT COUNT MICROSECONDS
 *     the short connections: connect, send 5 bytes, live MICROSECONDS, close.
 *   sequential-client udp PORT COUNT MICROSECONDS
 *     single-datagram exchanges (a DNS query, say): a new socket that is not bound first (the
 *     kernel picks its port at the first send), one datagram, its answer awaited (at most 200 ms),
 *     close, then a pause of MICROSECONDS.
 *   sequential-client tcp-fork PORT COUNT MICROSECONDS
 *     the same TCP exchanges, each made by a new process (forked, the way a shell runs curl) that
 *     exits after it: every connection is its program's first.
 * Prints {"pid":P,"ports":[]} when it starts and {"pid":P,"ports":[...]} (each socket's local
 * port, in order) when it is done, as the bench's Node clients do; with tcp-fork, also "pids":
 * the process that made each. Only 127.0.0.1 is a destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One exchange on a new socket; its local port, or 0 when it could not be made. */
static int exchange(int udp, const struct sockaddr_in *to, long us) {
  int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  int sent = fd >= 0 && (udp ? sendto(fd, "ping", 4, 0, (const struct sockaddr *)to, sizeof *to) == 4
                             : connect(fd, (const struct sockaddr *)to, sizeof *to) == 0);
  if (!sent) {
    perror(udp ? "sendto" : "connect");
    if (fd >= 0) close(fd);
    return 0;
  }
  struct sockaddr_in local;
  socklen_t length = sizeof local;
  getsockname(fd, (struct sockaddr *)&local, &length);
  struct timespec t = {us / 1000000, (us % 1000000) * 1000};
  if (udp) {
    struct pollfd answer = {.fd = fd, .events = POLLIN};
    char buffer[64];
    if (poll(&answer, 1, 200) == 1) recv(fd, buffer, sizeof buffer, 0);
    close(fd);
    nanosleep(&t, 0);
  } else {
    if (write(fd, "hello", 5) != 5) perror("write");
    nanosleep(&t, 0);
    close(fd);
  }
  return ntohs(local.sin_port);
}

/* An exchange made by a child process, which passes its port back through a pipe; 0 on failure. */
static int exchangeInChild(const struct sockaddr_in *to, long us, int *pid) {
  int link[2];
  if (pipe(link) != 0) return 0;
  *pid = fork();
  if (*pid == 0) {
    close(link[0]);
    int port = exchange(0, to, us);
    _exit(write(link[1], &port, sizeof port) == sizeof port ? 0 : 1);
  }
  close(link[1]);
  int port = 0;
  if (*pid < 0 || read(link[0], &port, sizeof port) != sizeof port) port = 0;
  close(link[0]);
  if (*pid > 0) waitpid(*pid, 0, 0);
  return port;
}

int main(int argc, char **argv) {
  int forked = argc >= 2 && strcmp(argv[1], "tcp-fork") == 0;
  if (argc < 5 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0 && !forked)) {
    fprintf(stderr, "usage: %s tcp|udp|tcp-fork PORT COUNT MICROSECONDS\n", argv[0]);
    return 2;
  }
  int udp = strcmp(argv[1], "udp") == 0;
  int count = atoi(argv[3]);
  long us = atol(argv[4]);
  int *ports = calloc(count > 0 ? count : 1, sizeof *ports);
  int *pids = calloc(count > 0 ? count : 1, sizeof *pids);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  printf("{\"pid\":%d,\"ports\":[]}\n", getpid());
  fflush(stdout);
  int made = 0;
  for (int i = 0; i < count; i++) {
    int pid = getpid();
    int port = forked ? exchangeInChild(&to, us, &pid) : exchange(udp, &to, us);
    if (port) {
      pids[made] = pid;
      ports[made++] = port;
    }
  }
  printf("{\"pid\":%d,\"ports\":[", getpid());
  for (int i = 0; i < made; i++) printf(i ? ",%d" : "%d", ports[i]);
  if (forked) {
    printf("],\"pids\":[");
    for (int i = 0; i < made; i++) printf(i ? ",%d" : "%d", pids[i]);
  }
  printf("]}\n");
  return 0;
}
