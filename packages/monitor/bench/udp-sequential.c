/*
 * Single-datagram UDP exchanges as a small C program makes them (a DNS query, say): one after
 * another, each from a new socket that is not bound first (the kernel picks its port at the
 * first send), one datagram to a local server, its answer awaited (at most 200 ms), then closed,
 * then a pause of MICROSECONDS before the next.
 *   udp-sequential PORT COUNT MICROSECONDS
 * Prints {"pid":P,"ports":[]} when it starts and {"pid":P,"ports":[...]} (each socket's local
 * port, in order) when it is done, as tcp-sequential.c does. Only 127.0.0.1 is a destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || sendto(fd, "ping", 4, 0, (struct sockaddr *)&to, sizeof to) != 4) {
      perror("sendto");
      if (fd >= 0) close(fd);
      continue;
    }
    struct sockaddr_in local;
    socklen_t length = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &length);
    ports[made++] = ntohs(local.sin_port);
    struct pollfd answer = {.fd = fd, .events = POLLIN};
    char buffer[64];
    if (poll(&answer, 1, 200) == 1) recv(fd, buffer, sizeof buffer, 0);
    close(fd);
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, 0);
  }
  printf("{\"pid\":%d,\"ports\":[", getpid());
  for (int i = 0; i < made; i++) printf(i ? ",%d" : "%d", ports[i]);
  printf("]}\n");
  return 0;
}
