/*
 * A small C server for the bench's short exchanges, the counterpart of sequential-client.c: on
 * one port of 127.0.0.1 it accepts TCP connections as soon as poll(2) says one waits, echoes what
 * each connection sends and closes it when the peer does, and echoes each UDP datagram to its
 * sender. The bench's Node server accepts from an event loop shared with
 * everything else it does; this one shows the label latency when the server is prompt.
 *   echo-server
 * Prints {"pid":P,"port":N} once listening. Runs until stdin closes; a line "accepts" on stdin
 * prints {"accepts":{"clientPort":ms,...},"reads":{...}}: when it accepted each connection since
 * the last such line, and when it first read from it (CLOCK_REALTIME, ms with fractions), as
 * test/fixtures/tcp-server.mjs does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPEN 1024
#define MAX_ACCEPTS 65536

#define FIRST 3 /* fds[0] stdin, fds[1] the TCP listener, fds[2] the UDP socket, then connections */
static struct pollfd fds[MAX_OPEN + FIRST];
static int open_count; /* connections, in fds[FIRST ..] */
static int accepted_ports[MAX_ACCEPTS];
static double accepted_at[MAX_ACCEPTS];
static double first_read_at[MAX_ACCEPTS]; /* 0 until it is read */
static int accepted_count;
/* Per connection in fds[FIRST ..]: its index in accepted_*, or -1 once read (or not kept). */
static int accept_index[MAX_OPEN + FIRST];

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void print_accepts(void) {
  printf("{\"accepts\":{");
  for (int i = 0; i < accepted_count; i++)
    printf(i ? ",\"%d\":%.3f" : "\"%d\":%.3f", accepted_ports[i], accepted_at[i]);
  printf("},\"reads\":{");
  for (int i = 0, n = 0; i < accepted_count; i++)
    if (first_read_at[i] > 0) printf(n++ ? ",\"%d\":%.3f" : "\"%d\":%.3f", accepted_ports[i], first_read_at[i]);
  printf("}}\n");
  fflush(stdout);
  accepted_count = 0;
  for (int i = FIRST; i < FIRST + open_count; i++) accept_index[i] = -1;
}

int main(void) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in at = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
  socklen_t length = sizeof at;
  if (bind(listener, (struct sockaddr *)&at, sizeof at) != 0 || listen(listener, 4096) != 0 ||
      getsockname(listener, (struct sockaddr *)&at, &length) != 0) {
    perror("listen");
    return 1;
  }
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  if (bind(udp, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("bind udp");
    return 1;
  }
  printf("{\"pid\":%d,\"port\":%d}\n", getpid(), ntohs(at.sin_port));
  fflush(stdout);
  fds[0] = (struct pollfd){.fd = 0, .events = POLLIN};
  fds[1] = (struct pollfd){.fd = listener, .events = POLLIN};
  fds[2] = (struct pollfd){.fd = udp, .events = POLLIN};
  char line[256];
  size_t line_length = 0;
  for (;;) {
    if (poll(fds, FIRST + open_count, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      struct sockaddr_in from;
      socklen_t from_length = sizeof from;
      int fd = accept(listener, (struct sockaddr *)&from, &from_length);
      double t = now_ms();
      if (fd >= 0 && open_count < MAX_OPEN) {
        accept_index[FIRST + open_count] = -1;
        fds[FIRST + open_count++] = (struct pollfd){.fd = fd, .events = POLLIN};
        if (accepted_count < MAX_ACCEPTS) {
          accept_index[FIRST + open_count - 1] = accepted_count;
          accepted_ports[accepted_count] = ntohs(from.sin_port);
          first_read_at[accepted_count] = 0;
          accepted_at[accepted_count++] = t;
        }
      } else if (fd >= 0) {
        close(fd);
      }
    }
    if (fds[2].revents & POLLIN) {
      char datagram[2048];
      struct sockaddr_in from;
      socklen_t from_length = sizeof from;
      ssize_t n = recvfrom(udp, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &from_length);
      if (n >= 0) sendto(udp, datagram, n, 0, (struct sockaddr *)&from, from_length);
    }
    for (int i = FIRST; i < FIRST + open_count; i++) {
      if (!fds[i].revents) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0 && accept_index[i] >= 0) {
        first_read_at[accept_index[i]] = now_ms();
        accept_index[i] = -1;
      }
      if (n > 0 && write(fds[i].fd, buffer, n) == n) continue;
      close(fds[i].fd); /* the peer closed (or failed): forget it, keep the array dense */
      accept_index[i] = accept_index[FIRST - 1 + open_count];
      fds[i--] = fds[FIRST - 1 + open_count--];
    }
    if (fds[0].revents) {
      ssize_t n = read(0, line + line_length, sizeof line - 1 - line_length);
      if (n <= 0) return 0;
      line_length += n;
      char *end;
      while ((end = memchr(line, '\n', line_length))) {
        *end = 0;
        if (strcmp(line, "accepts") == 0) print_accepts();
        line_length -= end + 1 - line;
        memmove(line, end + 1, line_length);
      }
      if (line_length == sizeof line - 1) line_length = 0;
    }
  }
}
