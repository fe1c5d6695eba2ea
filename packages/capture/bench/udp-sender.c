/*
 * Sends UDP datagrams to 127.0.0.1:PORT at a fixed rate for a while, for the live benchmark:
 *   udp-sender PORT RATE MILLISECONDS [PAYLOAD_BYTES] [inject]
 * RATE 0 sends as fast as it can. With `inject`, the same datagrams are written as whole Ethernet
 * frames to the loopback device through a packet socket (PACKET_QDISC_BYPASS), which skips the
 * sending half of the UDP stack: what a capture sees is the same, the sender is about twice as fast. Datagrams go out with sendmmsg(2) in batches of up to 64, paced
 * against CLOCK_MONOTONIC every batch. Prints "sent N seconds S cpu C" (S: the time taken, C: the
 * CPU seconds the sender used, user and system: what hooks on the send path cost it) on stdout.
 * Only loopback is ever a destination. The sender also binds the destination port itself and never
 * reads it, so no ICMP "port unreachable" comes back and no other process spends time receiving.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT RATE MILLISECONDS [PAYLOAD_BYTES]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  double seconds = atof(argv[3]) / 1000.0;
  int size = argc > 4 ? atoi(argv[4]) : 64;
  if (size < 0 || size > 1400) size = 64;
  int inject = argc > 5 && strcmp(argv[5], "inject") == 0;
  int fd = inject ? socket(AF_PACKET, SOCK_RAW, 0) : socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int buffer = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  int small = 1;
  setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (sink < 0 || bind(sink, (struct sockaddr *)&to, sizeof to) != 0) perror("bind (no sink; ICMP errors will come back)");
  static char payload[1500];
  struct sockaddr_ll lo = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex("lo") };
  int length = size;
  if (inject) {
    /* Ethernet (zero addresses, as loopback uses) + IPv4 127.0.0.1 -> 127.0.0.1 + UDP to PORT. */
    struct ether_header *eth = (struct ether_header *)payload;
    eth->ether_type = htons(ETHERTYPE_IP);
    struct iphdr *ip = (struct iphdr *)(payload + 14);
    ip->version = 4; ip->ihl = 5; ip->ttl = 64; ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(20 + 8 + size);
    ip->saddr = ip->daddr = htonl(0x7f000001);
    unsigned long sum = 0;
    for (int i = 0; i < 10; i++) sum += ((unsigned short *)ip)[i];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip->check = (unsigned short)~sum;
    struct udphdr *udp = (struct udphdr *)(payload + 34);
    udp->source = htons(port); udp->dest = htons(port); udp->len = htons(8 + size); /* no checksum */
    length = 14 + 20 + 8 + size;
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  }
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = length;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = inject ? (void *)&lo : (void *)&to;
    msgs[i].msg_hdr.msg_namelen = inject ? sizeof lo : sizeof to;
  }
  long sent = 0;
  double start = now(), t;
  while ((t = now() - start) < seconds) {
    long due = rate > 0 ? (long)(t * rate) + 1 : sent + BATCH;
    while (sent < due) {
      int n = due - sent < BATCH ? (int)(due - sent) : BATCH;
      int done = sendmmsg(fd, msgs, n, 0);
      if (done <= 0) break;
      sent += done;
    }
    if (rate > 0 && sent >= due) {
      double wait = (sent / rate) - (now() - start);
      if (wait > 0.0002) {
        struct timespec ts = { 0, (long)((wait - 0.0001) * 1e9) };
        nanosleep(&ts, NULL);
      }
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
               usage.ru_stime.tv_usec / 1e6;
  printf("sent %ld seconds %.6f cpu %.6f\n", sent, now() - start, cpu);
  close(fd);
  close(sink);
  return 0;
}
