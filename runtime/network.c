/* Running bulwark-net for a container: firewall, direct-mode plumbing, the network agent. */
#include "runtime/network.h"
#include "runtime/sealed.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "common/child.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

bool network_wanted(const struct global_opts *g, const struct oci_spec *spec)
{
	if (g->policy != NULL)
		return true;
	for (size_t i = 0; i < spec->n_annotations; i++)
		if (str_has_prefix(spec->annotations[i].key, POLICY_ANNOTATION_PREFIX))
			return true;
	return false;
}

/* Where the running binary came from, for the helper beside it. Recorded before main():
 * runtime/main.c re-executes the verbs that run containers from a sealed copy (sealed.c: a
 * memfd, or a detached overlay), whose /proc/self/exe names no host directory; the
 * environment is what survives that exec. Overwritten (or removed) by every exec of a real
 * file, so only an exec of our own sealed copy inherits it; whoever can set it could set
 * BULWARK_NET_HELPER just as well. */
#define SELF_EXE_ENV "BULWARK_SELF_EXE"

__attribute__((constructor)) static void network_record_self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n > 0 && (size_t)n < sizeof(buf) - 1) {
		buf[n] = '\0';
		if (str_has_prefix(buf, "/memfd:") || sealed_self())
			return;
		if (buf[0] == '/' && !str_has_suffix(buf, " (deleted)")) {
			setenv(SELF_EXE_ENV, buf, 1);
			return;
		}
	}
	unsetenv(SELF_EXE_ENV);
}

static bool trusted_uid(uid_t uid, uid_t exe_owner)
{
	return uid == 0 || uid == geteuid() || uid == exe_owner;
}

/* A file that only root, the caller or the owner of the running binary can change, through
 * every directory above it: those can already change what runs (the binary beside it), so
 * trusting them adds nobody. A group- or world-writable directory must be sticky (/tmp);
 * anything group- or world-writable, or owned by anyone else, is not used. */
static bool helper_trusted(const char *path, uid_t exe_owner, char *why, size_t why_len)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return snprintf(why, why_len, "%s", strerror(errno)), false;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
		return snprintf(why, why_len, "not an executable file"), false;
	if (!trusted_uid(st.st_uid, exe_owner) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return snprintf(why, why_len,
				"owned by uid %u, mode %04o: only root's, the caller's or the "
				"binary owner's, writable by its owner alone, is used",
				(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777)),
		       false;
	_cleanup_free_ char *dir = xstrdup(path);
	for (char *slash = strrchr(dir, '/'); slash != NULL; slash = strrchr(dir, '/')) {
		*slash = '\0';
		const char *d = slash == dir ? "/" : dir;
		if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode))
			return snprintf(why, why_len, "`%s`: not a directory", d), false;
		if (!trusted_uid(st.st_uid, exe_owner) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
			return snprintf(why, why_len,
					"`%s` (uid %u, mode %04o) can be changed by others", d,
					(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777)),
			       false;
		if (slash == dir)
			break;
	}
	return true;
}

/* BULWARK_NET_HELPER, else the bulwark-net beside the running binary (a build tree:
 * build/runtime/), else the installed one in libexecdir. Never the working directory or
 * PATH. */
static const char *net_helper(void)
{
	static char beside[4096];
	static bool looked;
	const char *h = getenv("BULWARK_NET_HELPER");
	if (h != NULL && h[0] != '\0')
		return h;
	const char *self = getenv(SELF_EXE_ENV);
	if (!looked && self != NULL && self[0] == '/') {
		looked = true;
		struct stat exe;
		const char *slash = strrchr(self, '/');
		snprintf(beside, sizeof(beside), "%.*s/bulwark-net", (int)(slash - self), self);
		char why[256];
		if (stat(self, &exe) < 0 || access(beside, F_OK) < 0)
			beside[0] = '\0';
		else if (!helper_trusted(beside, exe.st_uid, why, sizeof(why))) {
			log_warn("network helper `%s` beside the binary not used: %s", beside, why);
			beside[0] = '\0';
		}
	}
	return beside[0] != '\0' ? beside : BULWARK_LIBEXECDIR "/bulwark-net";
}

const char *network_helper_path(void)
{
	return net_helper();
}

const char *network_self_exe(void)
{
	const char *self = getenv(SELF_EXE_ENV);
	return self != NULL && self[0] == '/' ? self : NULL;
}

/* Our stdio may be the container's (create): the helper's output is captured, and its last
 * line becomes the error when it fails. On success the output goes to *out (may be NULL). */
static int run_net_helper(char *const argv[], const int *inherit, size_t n_inherit, char **out,
			  struct bw_error *err)
{
	/* EOF comes when the helper and everything it forked closed the pipe: the agent's daemon
	 * puts its stdio on /dev/null before the foreground exits. */
	struct child_spec spec = {.name = "network helper",
				  .path = argv[0],
				  .argv = argv,
				  .inherit = inherit,
				  .n_inherit = n_inherit,
				  .output_max = 1 << 16};
	struct child_result res;
	if (child_run(&spec, &res, err) < 0)
		return -1;
	_cleanup_free_ char *text = res.output;
	if (child_ok(&res)) {
		if (out != NULL)
			*out = steal_ptr(&text);
		return 0;
	}
	size_t n = res.len;
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	const char *last = strrchr(text, '\n') ? strrchr(text, '\n') + 1 : text;
	return bw_fail(err, 0, "%s", last[0] ? last : "network helper failed");
}

/* pasta (Debian's passt package), which carries a rootless sandbox's egress: BULWARK_PASTA,
 * else the first of the usual places. Only runs without root, as the caller: it gets no more
 * than the caller could run anyway. It needs /dev/net/tun. */
const char *network_pasta(struct bw_error *err)
{
	static const char *const places[] = {"/usr/bin/pasta", "/usr/local/bin/pasta",
					     "/bin/pasta"};
	const char *env = getenv("BULWARK_PASTA"), *found = NULL;
	if (env != NULL && env[0] != '\0')
		found = env[0] == '/' && access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; env == NULL && found == NULL && i < ARRAY_SIZE(places); i++)
		if (access(places[i], X_OK) == 0)
			found = places[i];
	if (found == NULL) {
		bw_fail(err, 0,
			"egress without root goes through pasta (Debian package passt), which is "
			"not installed (BULWARK_PASTA names another); without it a rootless "
			"sandbox has loopback only");
		return NULL;
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		bw_fail(err, errno,
			"egress without root goes through pasta, which needs /dev/net/tun");
		return NULL;
	}
	return found;
}

/* The pid the helper printed as KEY=PID, or 0. */
static int helper_pid(const char *out, const char *key)
{
	const char *p = out != NULL ? strstr(out, key) : NULL;
	int pid;
	if (p == NULL)
		return 0;
	p += strlen(key);
	_cleanup_free_ char *num = xstrndup(p, strcspn(p, "\n"));
	return parse_int(num, &pid) == 0 && pid > 1 ? pid : 0;
}

/* The helper's common options: namespace, host policy, the container's net annotations. */
static char **helper_argv(const struct global_opts *g, const struct oci_spec *spec,
			  const char *netns)
{
	char **argv = NULL;
	strv_push(&argv, net_helper());
	strv_push(&argv, "--netns");
	strv_push(&argv, netns);
	if (g->policy != NULL) {
		strv_push(&argv, "--policy");
		strv_push(&argv, g->policy);
	}
	for (size_t i = 0; i < spec->n_annotations; i++)
		if (str_has_prefix(spec->annotations[i].key, POLICY_ANNOTATION_PREFIX))
			strv_push_take(&argv,
				       xasprintf("--annotation=%s=%s", spec->annotations[i].key,
						 spec->annotations[i].value));
	return argv;
}

/* A process that may change its namespace's nftables (CAP_NET_ADMIN) or send frames that never
 * pass them (CAP_NET_RAW: packet sockets) would make the policy a suggestion: refused. */
int network_check_caps(const struct oci_spec *spec, struct bw_error *err)
{
	static const char *const bypass[] = {"CAP_NET_ADMIN", "CAP_NET_RAW"};
	for (int s = 0; s < OCI_CAP_NSETS; s++)
		for (size_t i = 0; i < ARRAY_SIZE(bypass); i++)
			if (strv_contains(spec->process.caps.sets[s], bypass[i]))
				return bw_fail(
				    err, 0,
				    "network policy: process.capabilities grants %s, with which "
				    "the container could get around its firewall; drop it (docker: "
				    "--cap-drop %s) or run without a policy",
				    bypass[i], bypass[i] + 4);
	return 0;
}

/* A policy (--policy or run.bulwark.net.* annotations) is enforced in the container's own
 * network namespace before its process is released. Without one, a new namespace holds only
 * `lo`: nothing to filter, and no nftables work on the hot path. One helper run does it all
 * (plumbing when the policy allows egress from a fresh namespace, the agent, the table) and
 * undoes its own work if any step fails; the runtime already validated the same policy. */
int network_setup(const struct global_opts *g, struct container *c, const struct spawn_config *cfg,
		  pid_t pid, const struct sandbox_policy *pol, const char *audit,
		  struct bw_error *err)
{
	bool fresh = cfg->new_ns_flags & CLONE_NEWNET;
	if (!fresh && cfg->ns_fds[OCI_NS_NETWORK] < 0)
		return bw_fail(err, 0,
			       "network policy: the container shares the host's network namespace; "
			       "a policy needs its own (linux.namespaces: network)");
	char path[64];
	int inherit[2] = {-1, -1};
	if (cfg->rootless && cfg->init_netns >= 0 && cfg->init_userns >= 0) {
		/* The helpers open these paths as their own inherited fds (see
		 * spawn/spawn_prepare.c). */
		inherit[0] = cfg->init_netns;
		inherit[1] = cfg->init_userns;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", cfg->init_netns);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	}
	char **argv = helper_argv(g, cfg->spec, path);
	strv_push(&argv, "--id");
	strv_push(&argv, c->id);
	strv_push_take(&argv, xasprintf("--pid=%d", (int)pid));
	strv_push_take(&argv, xasprintf("--dns-port=%d", NETWORK_DNS_PORT));
	strv_push_take(&argv, xasprintf("--events=%s/events.jsonl", c->dir));
	if (audit != NULL)
		strv_push_take(&argv, xasprintf("--audit=%s", audit));
	if (!policy_uses_domains(pol))
		strv_push(&argv, "--no-dns");
	if (cfg->rootless) {
		/* The namespaces belong to the user namespace we own; no veth or NAT can be made
		 * without root: egress goes through pasta. */
		if (inherit[1] < 0) {
			strv_free(argv);
			return bw_fail(err, 0,
				       "network policy: without root the container needs a user "
				       "namespace of its own");
		}
		strv_push_take(&argv, xasprintf("--userns=/proc/self/fd/%d", inherit[1]));
		if (policy_allows_egress(pol)) {
			const char *pasta = network_pasta(err);
			if (pasta == NULL) {
				strv_free(argv);
				return bw_wrap(err, "network policy");
			}
			strv_push_take(&argv, xasprintf("--pasta=%s", pasta));
		}
	} else if (fresh && policy_allows_egress(pol)) {
		/* Recorded before it exists: a crash in between must still lead delete to it. */
		strv_push(&argv, "--plumb");
		state_cleanup_add(&c->state, STATE_CLEANUP_NET_PLUMB);
		if (container_save(c, err) < 0) {
			strv_free(argv);
			return -1;
		}
	}
	strv_push(&argv, "setup");
	_cleanup_free_ char *out = NULL;
	int r = run_net_helper(argv, inherit, ARRAY_SIZE(inherit), &out, err);
	strv_free(argv);
	if (r < 0)
		return bw_wrap(err, "network policy");
	/* Which UDP source ports the table lets out through pasta, and why (--debug). */
	for (const char *l = out; l != NULL && (l = strstr(l, "udp-ports")) != NULL;
	     l += strcspn(l, "\n"))
		log_debug("network: pasta %.*s", (int)strcspn(l, "\n"), l);
	int ppid = helper_pid(out, "pasta-pid="), apid = helper_pid(out, "agent-pid=");
	if (ppid > 0)
		container_record_helper(c, STATE_CLEANUP_PASTA, ppid, 0);
	if (apid == 0)
		return bw_fail(err, 0, "network agent: no pid in its output");
	/* Saved with the rest of the state at the end of create; until then a failed create
	 * stops it from this record, and a crashed one ends its init, which ends the agent. */
	container_record_helper(c, STATE_CLEANUP_AGENT, apid, 0);
	return 0;
}

void network_stop_agent(struct container *c)
{
	container_stop_helper(c, STATE_CLEANUP_AGENT, SIGTERM, 2000);
}

void network_release(struct container *c)
{
	network_stop_agent(c);
	container_stop_helper(c, STATE_CLEANUP_PASTA, SIGKILL, 1000);
	if (!state_cleanup_has(&c->state, STATE_CLEANUP_NET_PLUMB))
		return;
	struct bw_error e = {0};
	char *argv[] = {(char *)net_helper(), "--id", c->id, "unplumb", NULL};
	if (run_net_helper(argv, NULL, 0, NULL, &e) < 0)
		log_warn("%s", e.msg);
}
