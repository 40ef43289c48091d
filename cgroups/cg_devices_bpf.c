/* Device control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the rule
 * list (pure, unit-tested), and the thin loader that loads it and attaches it to a cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cg_internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

/* Registers after the prologue: r2 = device type, r3 = access, r4 = major, r5 = minor. */
#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

struct prog {
	struct bpf_insn *v;
	size_t n;
};

static void emit(struct prog *p, struct bpf_insn insn)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n++] = insn;
}

static void emit_prologue(struct prog *p)
{
	const int w = BPF_LDX | BPF_MEM | BPF_W;
	emit(p, INSN(w, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0));
	emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	emit(p, INSN(w, BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0));
	emit(p, INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	emit(p, INSN(w, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0));
	emit(p, INSN(w, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0));
}

static void emit_return(struct prog *p, int value)
{
	emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, value));
	emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* One rule: each test jumps past the block on mismatch (JNE/JEQ, fixed up at the end); the block
 * ends in "return verdict". Returns true when the rule matches unconditionally (nothing after it is
 * reachable). */
static bool emit_rule(struct prog *p, const struct cg_dev_rule *r)
{
	size_t start = p->n;
	size_t tests = 0;

	if (r->type != 'a') {
		int t = r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
		emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, t));
		tests++;
	}
	if ((r->access & CG_ACC_ALL) != CG_ACC_ALL) {
		unsigned acc = (r->access & CG_ACC_READ ? BPF_DEVCG_ACC_READ : 0) |
			       (r->access & CG_ACC_WRITE ? BPF_DEVCG_ACC_WRITE : 0) |
			       (r->access & CG_ACC_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0);
		emit(p, INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
		if (r->allow) {
			/* An allow covers a request only when it grants every bit asked for. */
			emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
				     (int)(~acc & 0xffff)));
			emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 0, 0));
		} else {
			/* A deny refuses a request asking for any bit it names (fail closed: a
			 * "w" deny also stops an open for read and write). */
			emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int)acc));
			emit(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0));
		}
		tests++;
	}
	if (r->major >= 0) {
		emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int)r->major));
		tests++;
	}
	if (r->minor >= 0) {
		emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int)r->minor));
		tests++;
	}
	emit_return(p, r->allow ? 1 : 0);
	size_t end = p->n;
	for (size_t i = start; i < end; i++)
		if (BPF_CLASS(p->v[i].code) == BPF_JMP && BPF_OP(p->v[i].code) != BPF_EXIT)
			p->v[i].off = (__s16)(end - i - 1);
	return tests == 0;
}

int cg_devices_bpf_build(const struct cg_dev_rule *r, size_t n, struct bpf_insn **out, size_t *nout,
			 struct bw_error *err)
{
	struct prog p = {0};
	bool total = false;

	if (n > 4096)
		return bw_fail(err, 0, "linux.resources.devices: too many rules (%zu)", n);
	emit_prologue(&p);
	/* Last match wins: test the rules from the last one back, return on the first match. */
	for (size_t i = n; i-- > 0 && !total;)
		if (r[i].access != 0)
			total = emit_rule(&p, &r[i]);
	if (!total)
		emit_return(&p, 0);
	*out = p.v;
	*nout = p.n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct bw_error *err)
{
	static char log[16384];
	union bpf_attr a;

	for (int pass = 0; pass < 2; pass++) {
		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
		a.insns = (uint64_t)(uintptr_t)insns;
		a.insn_cnt = (uint32_t)n;
		a.license = (uint64_t)(uintptr_t) "Apache";
		if (pass == 1) {
			/* Only on failure: ask the verifier why. */
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = sizeof(log);
			a.log_level = 1;
			log[0] = '\0';
		}
		int fd = sys_bpf(BPF_PROG_LOAD, &a);
		if (fd >= 0) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			return fd;
		}
		if (pass == 1 || (errno != EINVAL && errno != EACCES))
			break;
	}
	int e = errno;
	if (log[0] != '\0')
		log_debug("bpf verifier: %s", log);
	return bw_fail(err, e, "load the device cgroup eBPF program (%zu instructions)", n);
}

/* Detach every BPF_CGROUP_DEVICE program on the cgroup other than keep_fd's. */
static int detach_others(int cgfd, int keep_fd, struct bw_error *err)
{
	uint32_t ids[64];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = ARRAY_SIZE(ids);
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return bw_fail(err, errno, "query the cgroup's device programs");

	struct bpf_prog_info keep = {0};
	union bpf_attr ia;
	memset(&ia, 0, sizeof(ia));
	ia.info.bpf_fd = (uint32_t)keep_fd;
	ia.info.info_len = sizeof(keep);
	ia.info.info = (uint64_t)(uintptr_t)&keep;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &ia) < 0)
		return bw_fail(err, errno, "read the new device program's id");
	for (uint32_t i = 0; i < a.query.prog_cnt && i < ARRAY_SIZE(ids); i++) {
		if (ids[i] == keep.id)
			continue;
		union bpf_attr g;
		memset(&g, 0, sizeof(g));
		g.prog_id = ids[i];
		_cleanup_close_ int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (pfd < 0)
			return bw_fail(err, errno, "open device program %u", ids[i]);
		union bpf_attr d;
		memset(&d, 0, sizeof(d));
		d.target_fd = (uint32_t)cgfd;
		d.attach_bpf_fd = (uint32_t)pfd;
		d.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
			return bw_fail(err, errno, "detach device program %u", ids[i]);
	}
	return 0;
}

int cg_devices_bpf_attach(const char *dir, const struct bpf_insn *insns, size_t n, bool replace,
			  struct bw_error *err)
{
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return bw_fail(err, errno, "open `%s`", dir);
	_cleanup_close_ int pfd = prog_load(insns, n, err);
	if (pfd < 0)
		return -1;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return bw_fail(err, errno, "attach the device program to `%s`", dir);
	/* The new program is in force before the old ones go: in between both must allow. */
	if (replace && detach_others(cgfd, pfd, err) < 0)
		return bw_wrap(err, "`%s`", dir);
	return 0;
}
