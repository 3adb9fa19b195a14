/*
 * The kernel floor under the "Messages with ancillary data" rows of `npm run bench:syscalls`: the same pairs
 * of calls made from C, with no FFI and no JavaScript. bench/syscalls.ts compiles and runs this when a C
 * compiler is on the PATH (a development tool only: the package never needs a compiler).
 *
 * Exactly what the JS rows do, over an AF_UNIX stream socketpair in one thread, 64-byte messages:
 *   plain    send(MSG_NOSIGNAL) + recv                                  (send + recvInto)
 *   nofd     sendmsg(1 iovec) + recvmsg(1 iovec, 128-byte msg_name)     (sendmsg + recvmsg, no ancillary data)
 *   onefd    sendmsg with SCM_RIGHTS of one fd + recvmsg with CMSG_SPACE(4) control and a msg_name,
 *            then close() of the received fd                             (sendmsg + recvmsg with one fd + close)
 *   noclose  onefd without the close (the received fds are closed after each batch, untimed)
 *
 * Usage: msg-floor BATCHES BATCH_MS. Prints one line per pair: "name wall_ns cpu_ns" (medians per pair over
 * the batches; cpu is user + system time from getrusage, which other processes' load does not inflate),
 * then "ratio name wall cpu": the median over batches of each pair's cost relative to plain in that batch
 * (the pairs run interleaved, batch by batch).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int a, b, passed;
static char data[64], into[64];
static int held[4096];
static int nheld;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void plain(void) {
  if (send(a, data, sizeof data, MSG_NOSIGNAL) != sizeof data) die("send");
  if (recv(b, into, sizeof into, 0) != sizeof into) die("recv");
}

static void nofd(void) {
  struct iovec out = { data, sizeof data };
  struct msghdr m = { .msg_iov = &out, .msg_iovlen = 1 };
  if (sendmsg(a, &m, MSG_NOSIGNAL) != sizeof data) die("sendmsg");
  struct sockaddr_storage name;
  struct iovec in = { into, sizeof into };
  struct msghdr r = { .msg_name = &name, .msg_namelen = sizeof name, .msg_iov = &in, .msg_iovlen = 1 };
  if (recvmsg(b, &r, 0) != sizeof into) die("recvmsg");
}

static int onefdReceive(void) {
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } sc, rc;
  struct iovec out = { data, sizeof data };
  struct msghdr m = { .msg_iov = &out, .msg_iovlen = 1, .msg_control = sc.buf, .msg_controllen = sizeof sc.buf };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &passed, sizeof passed);
  if (sendmsg(a, &m, MSG_NOSIGNAL) != sizeof data) die("sendmsg");
  struct sockaddr_storage name;
  struct iovec in = { into, sizeof into };
  struct msghdr r = {
    .msg_name = &name, .msg_namelen = sizeof name, .msg_iov = &in, .msg_iovlen = 1,
    .msg_control = rc.buf, .msg_controllen = sizeof rc.buf,
  };
  if (recvmsg(b, &r, 0) != sizeof into) die("recvmsg");
  struct cmsghdr *g = CMSG_FIRSTHDR(&r);
  if (g == NULL || g->cmsg_level != SOL_SOCKET || g->cmsg_type != SCM_RIGHTS) die("no SCM_RIGHTS item");
  int fd;
  memcpy(&fd, CMSG_DATA(g), sizeof fd);
  return fd;
}

static void onefd(void) {
  close(onefdReceive());
}

static void noclose(void) {
  int fd = onefdReceive();
  if (nheld == (int)(sizeof held / sizeof *held)) die("too many fds held");
  held[nheld++] = fd;
}

static double wallNs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static double cpuNs(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3;
}

struct pair {
  const char *name;
  void (*fn)(void);
  long n;
  double wall[1000], cpu[1000], wallRatio[1000], cpuRatio[1000];
};

static void batch(struct pair *p, int i) {
  double w0 = wallNs(), c0 = cpuNs();
  for (long k = 0; k < p->n; k++) p->fn();
  p->wall[i] = (wallNs() - w0) / p->n;
  p->cpu[i] = (cpuNs() - c0) / p->n;
  while (nheld > 0) close(held[--nheld]);
}

static int byValue(const void *x, const void *y) {
  double d = *(const double *)x - *(const double *)y;
  return d < 0 ? -1 : d > 0;
}

static double median(double *v, int k) {
  qsort(v, k, sizeof *v, byValue);
  return v[k / 2];
}

int main(int argc, char **argv) {
  int batches = argc > 1 ? atoi(argv[1]) : 7;
  double batchNs = (argc > 2 ? atof(argv[2]) : 20) * 1e6;
  if (batches < 1 || batches > 1000 || batchNs <= 0) {
    fprintf(stderr, "usage: msg-floor [BATCHES 1-1000] [BATCH_MS]\n");
    return 2;
  }
  int sv[2], pipefds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  if (pipe2(pipefds, O_CLOEXEC) != 0) die("pipe2");
  a = sv[0];
  b = sv[1];
  passed = pipefds[1];
  memset(data, 'a', sizeof data);
  static struct pair pairs[] = {
    { .name = "plain", .fn = plain }, { .name = "nofd", .fn = nofd },
    { .name = "onefd", .fn = onefd }, { .name = "noclose", .fn = noclose },
  };
  const int count = sizeof pairs / sizeof *pairs;
  // Size each pair's batch to last about batchNs (this also warms up); noclose is capped by the fds it holds.
  for (int j = 0; j < count; j++) {
    struct pair *p = &pairs[j];
    for (p->n = 16;; p->n *= 2) {
      batch(p, 0);
      if (p->wall[0] * p->n >= batchNs || (p->fn == noclose && p->n * 2 > (long)(sizeof held / sizeof *held))) break;
    }
  }
  for (int i = 0; i < batches; i++) {
    for (int j = 0; j < count; j++) batch(&pairs[j], i);
    for (int j = 0; j < count; j++) {
      pairs[j].wallRatio[i] = pairs[j].wall[i] / pairs[0].wall[i];
      pairs[j].cpuRatio[i] = pairs[j].cpu[i] / pairs[0].cpu[i];
    }
  }
  for (int j = 0; j < count; j++) printf("%s %.0f %.0f\n", pairs[j].name, median(pairs[j].wall, batches), median(pairs[j].cpu, batches));
  for (int j = 1; j < count; j++) {
    printf("ratio %s %.3f %.3f\n", pairs[j].name, median(pairs[j].wallRatio, batches), median(pairs[j].cpuRatio, batches));
  }
  return 0;
}
