/*
 * The scenario for short connections: a small C client that connects to a local server
 * one connection after another, each sending 5 bytes, living MICROSECONDS, then closing.
 *   tcp-sequential PORT COUNT MICROSECONDS
 * Prints {"pid":P,"ports":[]} when it starts and {"pid":P,"ports":[...]} (each connection's local
 * port, in order) when it is done, as the bench's Node clients do. Only 127.0.0.1 is a destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT COUNT MICROSECONDS\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  int count = atoi(argv[2]);
  long us = atol(argv[3]);
  int *ports = calloc(count > 0 ? count : 1, sizeof *ports);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  printf("{\"pid\":%d,\"ports\":[]}\n", getpid());
  fflush(stdout);
  int made = 0;
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      perror("connect");
      if (fd >= 0) close(fd);
      continue;
    }
    struct sockaddr_in local;
    socklen_t length = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &length);
    ports[made++] = ntohs(local.sin_port);
    if (write(fd, "hello", 5) != 5) perror("write");
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, 0);
    close(fd);
  }
  printf("{\"pid\":%d,\"ports\":[", getpid());
  for (int i = 0; i < made; i++) printf(i ? ",%d" : "%d", ports[i]);
  printf("]}\n");
  return 0;
}
