/*
 * How late this machine wakes a process that waits for another one, with nothing of netwho
 * running: the floor under any label latency, since a label needs the monitor to wake.
 *   wake-floor COUNT
 * A parent writes its CLOCK_MONOTONIC time into a pipe every 300 µs; the child, blocked in
 * read(2), takes the difference when it wakes. Prints {"p50":ms,"p99":ms,"p999":ms,"max":ms}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 5000;
  if (count < 1) return 2;
  int p[2];
  if (pipe(p) != 0) return perror("pipe"), 1;
  pid_t child = fork();
  if (child < 0) return perror("fork"), 1;
  if (child == 0) {
    close(p[1]);
    double *late = malloc(count * sizeof *late);
    double sent;
    int n = 0;
    while (n < count && read(p[0], &sent, sizeof sent) == sizeof sent) late[n++] = now_ms() - sent;
    if (n == 0) return 1;
    qsort(late, n, sizeof *late, by_value);
    printf("{\"p50\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f}\n", late[n / 2], late[n * 99 / 100],
           late[n * 999 / 1000], late[n - 1]);
    return 0;
  }
  close(p[0]);
  struct timespec pause = {0, 300000};
  for (int i = 0; i < count; i++) {
    nanosleep(&pause, NULL);
    double t = now_ms();
    if (write(p[1], &t, sizeof t) != sizeof t) break;
  }
  close(p[1]);
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
