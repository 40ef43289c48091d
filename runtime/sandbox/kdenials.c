/* Kernel denials of one sandbox from the audit multicast group (see kdenials.h). */
#include "runtime/sandbox/kdenials.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "profiles/landlock.h"
#include "runtime/sandbox/audit.h"
#include "runtime/sandbox/report.h"

#ifndef AUDIT_LANDLOCK_ACCESS
#define AUDIT_LANDLOCK_ACCESS 1423
#endif
#ifndef AUDIT_LANDLOCK_DOMAIN
#define AUDIT_LANDLOCK_DOMAIN 1424
#endif
#define KD_ENTRIES 256
#define KD_DOMAINS 64
#define KD_RCVBUF (4 << 20)
#define SECCOMP_ACTION_MASK 0xffff0000U

/* ---- parsing (pure) ---- */

/* The value of `key=` in a record (at its start or after a space); its length in *vlen. */
static const char *field(const char *t, size_t len, const char *key, size_t *vlen)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl < len; i++) {
		if ((i != 0 && t[i - 1] != ' ') || memcmp(t + i, key, kl) != 0 || t[i + kl] != '=')
			continue;
		const char *v = t + i + kl + 1;
		size_t n = 0;
		if (i + kl + 1 < len && *v == '"') { /* quoted: up to the closing quote, if any */
			while (i + kl + 2 + n < len && v[1 + n] != '"')
				n++;
			*vlen = i + kl + 2 + n < len ? n + 2 : n + 1;
		} else {
			while (i + kl + 1 + n < len && v[n] != ' ')
				n++;
			*vlen = n;
		}
		return v;
	}
	return NULL;
}

static bool field_u64(const char *t, size_t len, const char *key, int base, uint64_t *out)
{
	size_t n;
	const char *v = field(t, len, key, &n);
	char buf[32];
	if (v == NULL || n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, base);
	if (errno != 0 || *end != '\0' || buf[0] == '-')
		return false;
	*out = x;
	return true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One byte of a name the sandbox chose: printable ASCII as is, anything else (controls,
 * non-UTF-8) and the backslash as \xNN, so the report stays valid JSON text. */
static size_t put_byte(char *out, size_t o, size_t cap, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f && c != '\\') {
		if (o + 1 < cap)
			out[o++] = (char)c;
		return o;
	}
	if (o + 4 < cap) {
		snprintf(out + o, 5, "\\x%02x", c);
		o += 4;
	}
	return o;
}

/* An audit string: "quoted", or hex when it holds anything unusual (audit's own rule). */
static void untrusted(const char *v, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (n >= 1 && v[0] == '"') {
		for (size_t i = 1; i < n && v[i] != '"'; i++)
			o = put_byte(out, o, cap, (unsigned char)v[i]);
	} else {
		for (size_t i = 0; i + 1 < n; i += 2) {
			int hi = hexval(v[i]), lo = hexval(v[i + 1]);
			if (hi < 0 || lo < 0)
				break;
			o = put_byte(out, o, cap, (unsigned char)(hi << 4 | lo));
		}
	}
	out[o] = '\0';
}

static void copy_field(const char *v, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

bool kd_parse_record(uint16_t type, const char *t, size_t len, struct kd_record *out)
{
	uint64_t x;
	memset(out, 0, sizeof(*out));
	if (type == AUDIT_SECCOMP) {
		uint64_t ses, arch, nr, code;
		if (!field_u64(t, len, "ses", 10, &ses) || !field_u64(t, len, "arch", 16, &arch) ||
		    !field_u64(t, len, "syscall", 10, &nr) ||
		    !field_u64(t, len, "code", 0, &code) || ses > UINT32_MAX || arch > UINT32_MAX ||
		    nr > INT32_MAX || code > UINT32_MAX)
			return false;
		out->kind = KD_SYSCALL;
		out->ses = (uint32_t)ses;
		out->arch = (uint32_t)arch;
		out->nr = (int)nr;
		out->action = (uint32_t)code & SECCOMP_ACTION_MASK;
		if (field_u64(t, len, "pid", 10, &x) && x <= INT32_MAX)
			out->pid = (pid_t)x;
		return true;
	}
	if (type != AUDIT_LANDLOCK_ACCESS && type != AUDIT_LANDLOCK_DOMAIN)
		return false;
	if (!field_u64(t, len, "domain", 16, &out->domain))
		return false;
	size_t n;
	const char *v;
	if (type == AUDIT_LANDLOCK_DOMAIN) {
		out->kind = KD_LANDLOCK_DOMAIN;
		v = field(t, len, "status", &n);
		out->allocated = v != NULL && n == 9 && memcmp(v, "allocated", 9) == 0;
		if (out->allocated && (!field_u64(t, len, "pid", 10, &x) || x > INT32_MAX))
			return false;
		out->pid = out->allocated ? (pid_t)x : 0;
		return true;
	}
	out->kind = KD_LANDLOCK_ACCESS;
	v = field(t, len, "blockers", &n);
	if (v == NULL)
		return false;
	copy_field(v, n, out->blockers, sizeof(out->blockers));
	const char *rest = v + n; /* the fields after the blockers */
	if ((v = field(t, len, "path", &n)) != NULL) {
		untrusted(v, n, out->object, sizeof(out->object));
	} else if (rest + 1 < t + len) {
		/* Sockets, signals, ptrace: the fields as the kernel wrote them (comm= and the
		 * like are quoted or hex, so spaces separate fields). */
		size_t o = 0, m = (size_t)(t + len - rest - 1);
		for (size_t i = 0; i < m; i++)
			o = put_byte(out->object, o, sizeof(out->object),
				     (unsigned char)rest[1 + i]);
		out->object[o] = '\0';
	}
	return true;
}

/* ---- the reader ---- */

struct kd_entry {
	struct kd_record r; /* the key: kind and the identifying fields */
	uint64_t count;
};

struct kdenials {
	int sock, stopfd;
	uint32_t ses;
	bool audit_on;
	pid_t init;
	pthread_t thread;
	bool running;
	struct kd_entry e[KD_ENTRIES];
	size_t n;
	uint64_t other;		   /* records of the sandbox that did not fit in the table */
	uint64_t lost;		   /* times the kernel dropped records for the socket (ENOBUFS) */
	uint64_t ours[KD_DOMAINS]; /* Landlock domains the sandbox's init created */
	size_t nours;
	uint64_t foreign[KD_DOMAINS]; /* recently seen domains of other processes (a ring) */
	size_t nforeign;
	char buf[16384];
};

static bool same_key(const struct kd_record *a, const struct kd_record *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == KD_SYSCALL)
		return a->arch == b->arch && a->nr == b->nr && a->action == b->action;
	return a->domain == b->domain && strcmp(a->blockers, b->blockers) == 0 &&
	       strcmp(a->object, b->object) == 0;
}

static void count(struct kdenials *k, const struct kd_record *r)
{
	for (size_t i = 0; i < k->n; i++)
		if (same_key(&k->e[i].r, r)) {
			k->e[i].count++;
			return;
		}
	if (k->n == KD_ENTRIES) {
		k->other++;
		return;
	}
	k->e[k->n].r = *r;
	k->e[k->n++].count = 1;
}

static bool in_list(const uint64_t *l, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n && i < KD_DOMAINS; i++)
		if (l[i] == id)
			return true;
	return false;
}

/* A domain of another process: forget its provisional counts, and skip it from now on. */
static void forget_domain(struct kdenials *k, uint64_t id)
{
	size_t w = 0;
	for (size_t i = 0; i < k->n; i++)
		if (k->e[i].r.kind != KD_LANDLOCK_ACCESS || k->e[i].r.domain != id)
			k->e[w++] = k->e[i];
	k->n = w;
	k->foreign[k->nforeign++ % KD_DOMAINS] = id;
}

static void take(struct kdenials *k, uint16_t type, const char *text, size_t len)
{
	struct kd_record r;
	if (!kd_parse_record(type, text, len, &r))
		return;
	switch (r.kind) {
	case KD_SYSCALL:
		if (r.ses == k->ses)
			count(k, &r);
		break;
	case KD_LANDLOCK_ACCESS:
		/* A domain's first access record comes before the record that names its
		 * creator: an unknown domain is counted provisionally. */
		if (!in_list(k->foreign, k->nforeign, r.domain))
			count(k, &r);
		break;
	case KD_LANDLOCK_DOMAIN:
		if (!r.allocated)
			break;
		if (r.pid != k->init)
			forget_domain(k, r.domain);
		else if (k->nours < KD_DOMAINS && !in_list(k->ours, k->nours, r.domain))
			k->ours[k->nours++] = r.domain;
		break;
	case KD_NONE:
		break;
	}
}

/* Read what the socket holds now. */
static void drain(struct kdenials *k)
{
	for (;;) {
		ssize_t got = recv(k->sock, k->buf, sizeof(k->buf) - 1, MSG_DONTWAIT);
		if (got < 0 && errno == ENOBUFS) {
			k->lost++; /* the kernel dropped records (whose, nobody knows) */
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return;
		for (struct nlmsghdr *h = (struct nlmsghdr *)k->buf; NLMSG_OK(h, (size_t)got);
		     h = NLMSG_NEXT(h, got)) {
			/* The payload is the record's text, not NUL-terminated: terminate it
			 * (buf keeps a byte spare for that). */
			size_t plen =
			    h->nlmsg_len >= NLMSG_HDRLEN ? h->nlmsg_len - NLMSG_HDRLEN : 0;
			char *text = NLMSG_DATA(h);
			size_t room = (size_t)(k->buf + sizeof(k->buf) - 1 - text);
			if (plen > room)
				plen = room;
			text[plen] = '\0';
			while (plen > 0 && text[plen - 1] == '\0')
				plen--;
			take(k, h->nlmsg_type, text, plen);
			break; /* audit sends one record per message */
		}
	}
}

static void *reader(void *arg)
{
	struct kdenials *k = arg;
	for (;;) {
		struct pollfd p[2] = {{k->sock, POLLIN, 0}, {k->stopfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		drain(k);
		if (p[1].revents & POLLIN)
			break;
	}
	/* Records of the last refusals may still be on their way from the kernel's audit
	 * thread: read until the group has been quiet for 50 ms, for 500 ms at most (the group
	 * carries the whole host's records and may never be quiet). */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t spent =
		    (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd p = {k->sock, POLLIN, 0};
		if (spent >= 500 || poll(&p, 1, 50) <= 0)
			break;
		drain(k);
	}
	return NULL;
}

/* ---- set-up ---- */

/* AUDIT_GET: the host's audit status. */
static int audit_status(struct audit_status *st)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr h;
	} req = {{.nlmsg_len = sizeof(req),
		  .nlmsg_type = AUDIT_GET,
		  .nlmsg_flags = NLM_F_REQUEST,
		  .nlmsg_seq = 1}};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	char buf[1024];
	struct timeval tv = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 4; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (!NLMSG_OK(h, (size_t)n))
			return -1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error != 0) {
				errno = -e->error;
				return -1;
			}
			continue;
		}
		if (h->nlmsg_type == AUDIT_GET) {
			memset(st, 0, sizeof(*st));
			size_t plen = h->nlmsg_len - NLMSG_HDRLEN;
			memcpy(st, NLMSG_DATA(h), plen < sizeof(*st) ? plen : sizeof(*st));
			return 0;
		}
	}
	errno = EPROTO;
	return -1;
}

int kd_host_audit(bool *enabled, bool *panics)
{
	struct audit_status st;
	if (audit_status(&st) < 0)
		return -1;
	*enabled = st.enabled != 0;
	*panics = st.failure == AUDIT_FAIL_PANIC;
	return 0;
}

static int read_u32_file(const char *path, uint32_t *out)
{
	char buf[32];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	if (end == buf || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A new audit session: writing a valid loginuid allocates a new session id (the loginuid is
 * kept when set; else it becomes our uid, which is who started the sandbox). */
static int new_session(uint32_t *ses)
{
	uint32_t uid;
	if (read_u32_file("/proc/self/loginuid", &uid) < 0)
		return -1;
	if (uid == UINT32_MAX)
		uid = (uint32_t)getuid();
	char text[16];
	int len = snprintf(text, sizeof(text), "%" PRIu32, uid);
	_cleanup_close_ int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, (size_t)len) != len)
		return -1;
	if (read_u32_file("/proc/self/sessionid", ses) < 0 || *ses == UINT32_MAX) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

struct kdenials *kd_open(char *why, size_t why_len)
{
	struct audit_status st;
	if (audit_status(&st) < 0) {
		snprintf(why, why_len, "unavailable: the kernel's audit status cannot be read (%s)",
			 strerror(errno));
		return NULL;
	}
	if (st.failure == AUDIT_FAIL_PANIC) {
		snprintf(why, why_len,
			 "unavailable: the host's audit panics on lost records; a sandbox must not "
			 "be able to flood it");
		return NULL;
	}
	struct kdenials *k = xcalloc(1, sizeof(*k));
	k->audit_on = st.enabled != 0;
	k->stopfd = -1;
	k->sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = 1U << (AUDIT_NLGRP_READLOG - 1)};
	int size = KD_RCVBUF;
	if (k->sock < 0 || bind(k->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, why_len, "unavailable: cannot join the audit log group (%s)",
			 strerror(errno));
		kd_free(k);
		return NULL;
	}
	if (setsockopt(k->sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(k->sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (new_session(&k->ses) < 0) {
		snprintf(why, why_len, "unavailable: cannot start an audit session (%s)",
			 strerror(errno));
		kd_free(k);
		return NULL;
	}
	snprintf(why, why_len, "reported");
	return k;
}

bool kd_landlock_reported(const struct kdenials *k, char *why, size_t why_len)
{
	int abi = landlock_abi_version();
	if (k != NULL && k->audit_on && abi >= 7) {
		snprintf(why, why_len, "reported");
		return true;
	}
	if (k == NULL)
		snprintf(why, why_len, "unavailable: as for seccomp");
	else if (abi < 7)
		snprintf(why, why_len,
			 "unavailable: Landlock ABI %d cannot log refusals after execve (needs 7, "
			 "Linux 6.15)",
			 abi < 0 ? 0 : abi);
	else
		snprintf(why, why_len, "unavailable: the host's audit is off (auditctl -e 1)");
	return false;
}

int kd_start(struct kdenials *k, pid_t init_pid, struct bw_error *err)
{
	k->init = init_pid;
	k->stopfd = eventfd(0, EFD_CLOEXEC);
	if (k->stopfd < 0)
		return bw_fail(err, errno, "eventfd");
	int r = pthread_create(&k->thread, NULL, reader, k);
	if (r != 0)
		return bw_fail(err, r, "pthread_create");
	k->running = true;
	return 0;
}

/* ---- the results ---- */

static const char *action_name(uint32_t a)
{
	switch (a) {
	case 0x00050000U:
		return "errno";
	case 0x7ffc0000U:
		return "log";
	case 0x00030000U:
		return "trap";
	case 0x00000000U:
		return "kill_thread";
	case 0x80000000U:
		return "kill_process";
	case 0x7fc00000U:
		return "user_notif";
	case 0x7ff00000U:
		return "trace";
	default:
		return "other";
	}
}

static bool domain_ours(const struct kdenials *k, uint64_t id)
{
	return in_list(k->ours, k->nours, id);
}

/* One denial, to the report (as an events.jsonl line) and to the audit log. */
static void emit(struct report *rep, const char *id, const char *audit_path, const char *kind,
		 const char *const *kv, uint64_t n)
{
	yajl_gen g = json_gen_new(false);
	yajl_gen_map_open(g);
	json_key_str(g, "event", "denied");
	json_key_str(g, "kind", kind);
	for (size_t i = 0; kv[i] != NULL; i += 2)
		json_key_str(g, kv[i], kv[i + 1]);
	json_key_int(g, "count", (long long)n);
	yajl_gen_map_close(g);
	size_t len;
	_cleanup_free_ char *line = json_take(g, false, &len);
	if (rep != NULL)
		(void)report_add_event_line(rep, line, len);
	if (audit_path == NULL)
		return;
	struct audit_rec *a = audit_begin(id, "denied");
	audit_str(a, "kind", kind);
	for (size_t i = 0; kv[i] != NULL; i += 2)
		audit_str(a, kv[i], kv[i + 1]);
	audit_int(a, "count", (int64_t)n);
	audit_commit_warn(a, audit_path);
}

void kd_finish(struct kdenials *k, struct report *rep, const char *id, const char *audit_path)
{
	if (k == NULL)
		return;
	if (k->running) {
		uint64_t one = 1;
		if (write(k->stopfd, &one, sizeof(one)) == sizeof(one))
			pthread_join(k->thread, NULL);
		else
			pthread_cancel(k->thread), pthread_join(k->thread, NULL);
		k->running = false;
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct kd_record *r = &k->e[i].r;
		if (r->kind == KD_SYSCALL) {
			char *name = seccomp_syscall_resolve_num_arch(r->arch, r->nr);
			char num[24];
			snprintf(num, sizeof(num), "#%d", r->nr);
			const char *kv[] = {"syscall", name != NULL ? name : num, "action",
					    action_name(r->action), NULL};
			emit(rep, id, audit_path, "syscall", kv, k->e[i].count);
			free(name);
		} else if (r->kind == KD_LANDLOCK_ACCESS && domain_ours(k, r->domain)) {
			const char *kv[] = {"blockers", r->blockers, "object", r->object, NULL};
			emit(rep, id, audit_path, "landlock", kv, k->e[i].count);
		}
	}
	if (k->other > 0) {
		const char *kv[] = {NULL};
		emit(rep, id, audit_path, "other", kv, k->other);
	}
	if (k->lost > 0 && rep != NULL) {
		char *fields[] = {rep->kernel_seccomp, rep->kernel_landlock};
		for (size_t i = 0; i < 2; i++)
			if (strcmp(fields[i], "reported") == 0)
				snprintf(
				    fields[i], sizeof(rep->kernel_seccomp),
				    "partial: the kernel dropped audit records %" PRIu64
				    " times while the sandbox ran (some may have been its own)",
				    k->lost);
	}
	kd_free(k);
}

void kd_free(struct kdenials *k)
{
	if (k == NULL)
		return;
	if (k->running) {
		pthread_cancel(k->thread);
		pthread_join(k->thread, NULL);
	}
	if (k->sock >= 0)
		close(k->sock);
	if (k->stopfd >= 0)
		close(k->stopfd);
	free(k);
}
