/*
 * Load generator for the listeners benchmark: forks `procs` children that together hold `sockets`
 * open sockets on loopback (TCP listeners, UDP sockets, established TCP pairs whose both ends the
 * child holds), writes the ground truth, then waits until its stdin closes and kills them all.
 *
 *   load <procs> <sockets> <truth-file>
 *
 * Each truth line: "<pid> <TCP|UDP> <local port> <listen|udp|client> [<remote port>, for client]". A C program so a
 * thousand holders fit in memory (a Node process each would need ~40 GB).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int bound(int type, struct sockaddr_in *addr) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) { perror("socket"); exit(2); }
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  if (bind(fd, (struct sockaddr *)addr, len) < 0) { perror("bind"); exit(2); }
  getsockname(fd, (struct sockaddr *)addr, &len);
  return fd;
}

/* Opens `n` sockets in this process and reports each on `out` (one write, so lines never interleave). */
static void hold(int n, int out) {
  char text[16384];
  int used = 0, pid = getpid();
  struct sockaddr_in a;
  int listeners = n / 5 > 0 ? n / 5 : 1;
  int udps = n / 5;
  int lfd = -1;
  for (int i = 0; i < listeners && n > 0; i++, n--) {
    lfd = bound(SOCK_STREAM, &a);
    listen(lfd, 128);
    used += snprintf(text + used, sizeof text - used, "%d TCP %d listen\n", pid, ntohs(a.sin_port));
  }
  for (int i = 0; i < udps && n > 0; i++, n--) {
    bound(SOCK_DGRAM, &a);
    used += snprintf(text + used, sizeof text - used, "%d UDP %d udp\n", pid, ntohs(a.sin_port));
  }
  /* Connections to our own last listener: two sockets each (client end, accepted end). */
  struct sockaddr_in server;
  socklen_t len = sizeof server;
  getsockname(lfd, (struct sockaddr *)&server, &len);
  while (n > 0) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    /* Closed with a reset when the load ends: no TIME_WAIT left behind to swell the next load's table. */
    struct linger reset = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (connect(c, (struct sockaddr *)&server, sizeof server) < 0) { perror("connect"); exit(2); }
    getsockname(c, (struct sockaddr *)&a, &len);
    used += snprintf(text + used, sizeof text - used, "%d TCP %d client %d\n", pid, ntohs(a.sin_port), ntohs(server.sin_port));
    n--;
    if (n > 0) {
      accept(lfd, NULL, NULL);
      n--;
    }
    if (used > (int)sizeof text - 64) { write(out, text, used); used = 0; }
  }
  write(out, text, used);
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: load <procs> <sockets> <truth-file>\n"); return 2; }
  int procs = atoi(argv[1]), sockets = atoi(argv[2]);
  FILE *truth = fopen(argv[3], "w");
  if (!truth || procs < 1) { perror("truth"); return 2; }
  int ready[2];
  pipe(ready);
  pid_t *kids = calloc(procs, sizeof *kids);
  for (int i = 0; i < procs; i++) {
    int share = sockets / procs + (i < sockets % procs ? 1 : 0);
    kids[i] = fork();
    if (kids[i] == 0) {
      close(ready[0]);
      hold(share, fileno(truth));
      write(ready[1], "k", 1);
      close(ready[1]);
      for (;;) pause();
    }
  }
  close(ready[1]);
  char c;
  for (int i = 0; i < procs; i++) if (read(ready[0], &c, 1) != 1) { fprintf(stderr, "a holder failed\n"); return 1; }
  fclose(truth);
  printf("ready\n");
  fflush(stdout);
  while (read(0, &c, 1) > 0) {}
  for (int i = 0; i < procs; i++) kill(kids[i], SIGKILL);
  while (wait(NULL) > 0) {}
  return 0;
}
