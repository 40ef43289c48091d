/* nettime: interleaved network latency samples taken from two network namespaces, for
 * net-bench.sh. The same client measures both paths, so their difference is the paths'.
 *   nettime tcp LABEL=NETNS LABEL=NETNS HOST PORT N    socket() to connect() returning
 *   nettime dns LABEL=NETNS LABEL=NETNS SERVER NAME N  one UDP query for NAME's A record to
 *                                                      SERVER:53 on a fresh socket, as libc does
 * Sample i is taken in the first namespace, then in the second. Prints one line per label:
 * "LABEL median_us p90_us". A failed sample stops the run: a timeout must not become a time. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct side {
	const char *label;
	int nsfd;
	double *us;
};

static void die(const char *what)
{
	fprintf(stderr, "nettime: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Sockets belong to the namespace current when they are made; setns stays off the clock. */
static double tcp_sample(int nsfd, const struct sockaddr_in *dst)
{
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns");
	double t0 = now_us();
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	struct timeval tv = {.tv_sec = 2};
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		die("connect");
	double dt = now_us() - t0;
	close(s);
	return dt;
}

static size_t dns_query(const char *name, uint16_t id, unsigned char *q)
{
	size_t n = 0;
	const unsigned char hdr[12] = {id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(q, hdr, sizeof(hdr));
	n = sizeof(hdr);
	for (const char *l = name; *l;) {
		size_t len = strcspn(l, ".");
		q[n++] = (unsigned char)len;
		memcpy(q + n, l, len);
		n += len;
		l += len + (l[len] == '.');
	}
	q[n++] = 0;
	const unsigned char tail[4] = {0, 1, 0, 1}; /* type A, class IN */
	memcpy(q + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

static double dns_sample(int nsfd, const struct sockaddr_in *srv, const char *name)
{
	unsigned char q[300], r[4096];
	uint16_t id = (uint16_t)random();
	size_t qn = dns_query(name, id, q);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns");
	double t0 = now_us();
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	struct timeval tv = {.tv_sec = 2};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (const struct sockaddr *)srv, sizeof(*srv)) < 0)
		die("connect");
	if (send(s, q, qn, 0) != (ssize_t)qn)
		die("send");
	ssize_t rn = recv(s, r, sizeof(r), 0);
	double dt = now_us() - t0;
	if (rn < 0)
		die("recv (no answer)");
	close(s);
	if (rn < 12 || r[0] != (id >> 8) || r[1] != (id & 0xff) || !(r[2] & 0x80)) {
		fprintf(stderr, "nettime: not an answer to our query\n");
		exit(1);
	}
	if ((r[3] & 0x0f) != 0 || (r[6] == 0 && r[7] == 0)) {
		fprintf(stderr, "nettime: %s: rcode %d, %d answers\n", name, r[3] & 0x0f,
			r[6] << 8 | r[7]);
		exit(1);
	}
	return dt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(struct side *s, int n)
{
	qsort(s->us, (size_t)n, sizeof(double), cmp_double);
	double med = n % 2 ? s->us[n / 2] : (s->us[n / 2 - 1] + s->us[n / 2]) / 2;
	int r90 = (9 * n + 9) / 10; /* nearest rank: ceil(0.9 n) */
	printf("%s %.1f %.1f\n", s->label, med, s->us[r90 - 1]);
}

static void open_side(struct side *s, char *arg, int n)
{
	char *eq = strchr(arg, '=');
	if (eq == NULL) {
		fprintf(stderr, "nettime: expected LABEL=NETNS, got %s\n", arg);
		exit(2);
	}
	*eq = '\0';
	s->label = arg;
	s->nsfd = open(eq + 1, O_RDONLY | O_CLOEXEC);
	if (s->nsfd < 0)
		die(eq + 1);
	s->us = calloc((size_t)n, sizeof(double));
	if (s->us == NULL)
		die("calloc");
}

int main(int argc, char **argv)
{
	if (argc != 7 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "dns") != 0)) {
		fprintf(stderr,
			"usage: nettime tcp|dns LABEL=NETNS LABEL=NETNS HOST|SERVER PORT|NAME N\n");
		return 2;
	}
	int dns = strcmp(argv[1], "dns") == 0, n = atoi(argv[6]);
	if (n < 1)
		n = 1;
	struct side sides[2];
	open_side(&sides[0], argv[2], n);
	open_side(&sides[1], argv[3], n);
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(dns ? 53 : (uint16_t)atoi(argv[5]))};
	if (inet_pton(AF_INET, argv[4], &dst.sin_addr) != 1) {
		fprintf(stderr, "nettime: not an IPv4 address: %s\n", argv[4]);
		return 2;
	}
	srandom((unsigned)getpid() ^ (unsigned)now_us());
	for (int w = 0; w < 3; w++) /* warm-up: neighbour entries, caches, the proxy's first call */
		for (int k = 0; k < 2; k++)
			dns ? dns_sample(sides[k].nsfd, &dst, argv[5])
			    : tcp_sample(sides[k].nsfd, &dst);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			sides[k].us[i] = dns ? dns_sample(sides[k].nsfd, &dst, argv[5])
					     : tcp_sample(sides[k].nsfd, &dst);
	report(&sides[0], n);
	report(&sides[1], n);
	return 0;
}
