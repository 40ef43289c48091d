/* bulwark-net: the network pieces of bulwark as a standalone tool, for engines' hooks (a
 * network namespace given by path), the runtime and the tests: apply a sandbox policy's
 * firewall, list the table, plumb direct mode, start the per-sandbox network agent (DNS proxy
 * and audit). Links libnftables only through firewall.c's dlopen, like the runtime. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "netns/agent.h"
#include "netns/firewall.h"
#include "netns/ns.h"
#include "netns/pasta.h"
#include "netns/plumb.h"
#include "oci/policy.h"
#include "runtime/proctitle.h"

struct net_args {
	const char *cmd;
	const char *netns;
	const char *policy;
	const char *id;
	struct oci_kv *ann;
	size_t n_ann;
	uint32_t dns_port;
	bool plumb;
	const char *userns; /* without root: the user namespace owning --netns */
	const char *pasta;  /* without root: egress through this pasta instead of --plumb */
	struct agent_options agent;
};

static void usage(FILE *f)
{
	fputs(
	    "usage: bulwark-net apply --netns PATH [--policy FILE] [--annotation KEY=VALUE]...\n"
	    "                         [--dns-port N]\n"
	    "       bulwark-net --netns PATH [--policy FILE] [--annotation KEY=VALUE]... --id ID\n"
	    "                   --pid PID --dns-port N [--upstream-netns PATH] [--events FILE]\n"
	    "                   [--audit FILE] [--no-dns] agent\n"
	    "                   (DNS proxy + audit daemon; prints agent-pid=N)\n"
	    "       bulwark-net (the agent's options) [--plumb] setup\n"
	    "                   (what the runtime runs at create: plumb when asked, start the\n"
	    "                   agent, load the table; on failure undoes its own work)\n"
	    "       bulwark-net --userns PATH [--pasta PROGRAM] (the agent's options) setup\n"
	    "                   (without root: the namespaces belong to PATH, a user namespace\n"
	    "                   the caller owns; egress through pasta; prints pasta-pid=N too)\n"
	    "       bulwark-net list --netns PATH\n"
	    "       bulwark-net plumb --netns PATH --id ID    (direct mode: veth, route, NAT)\n"
	    "       bulwark-net unplumb --id ID\n"
	    "       bulwark-net list-nat                     (the host's NAT table)\n"
	    "       bulwark-net check [--policy FILE] [--annotation KEY=VALUE]...\n",
	    f);
}

static int add_annotation(struct net_args *a, const char *kv, struct bw_error *err)
{
	const char *eq = strchr(kv, '=');
	if (eq == NULL)
		return bw_fail(err, 0, "--annotation: expected KEY=VALUE, got `%s`", kv);
	a->ann = xrealloc(a->ann, (a->n_ann + 1) * sizeof(*a->ann));
	a->ann[a->n_ann].key = xstrndup(kv, (size_t)(eq - kv));
	a->ann[a->n_ann].value = xstrdup(eq + 1);
	a->n_ann++;
	return 0;
}

/* The agent's own options: 0 when c was one, 1 when it is not. */
static int agent_opt(int c, const char *arg, struct agent_options *o, struct bw_error *err)
{
	int pid;
	switch (c) {
	case 'P':
		if (parse_int(arg, &pid) < 0 || pid <= 0)
			return bw_fail(err, 0, "--pid: not a process id: `%s`", arg);
		o->pid = pid;
		return 0;
	case 'u':
		o->upstream_ns = arg;
		return 0;
	case 'e':
		o->events_path = arg;
		return 0;
	case 'A':
		o->audit_path = arg;
		return 0;
	case 'r': /* tests: a resolv.conf other than the host's */
		o->resolv_conf = arg;
		return 0;
	case 'N':
		o->no_dns = true;
		return 0;
	default:
		return 1;
	}
}

static int parse_args(int argc, char **argv, struct net_args *a, struct bw_error *err)
{
	static const struct option opts[] = {{"netns", required_argument, NULL, 'n'},
					     {"policy", required_argument, NULL, 'p'},
					     {"annotation", required_argument, NULL, 'a'},
					     {"dns-port", required_argument, NULL, 'd'},
					     {"id", required_argument, NULL, 'i'},
					     {"pid", required_argument, NULL, 'P'},
					     {"upstream-netns", required_argument, NULL, 'u'},
					     {"events", required_argument, NULL, 'e'},
					     {"audit", required_argument, NULL, 'A'},
					     {"resolv-conf", required_argument, NULL, 'r'},
					     {"no-dns", no_argument, NULL, 'N'},
					     {"plumb", no_argument, NULL, 'L'},
					     {"userns", required_argument, NULL, 'U'},
					     {"pasta", required_argument, NULL, 'T'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+n:p:a:d:i:h", opts, NULL)) != -1) {
		int r = agent_opt(c, optarg, &a->agent, err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (c == 'L')
			a->plumb = true;
		else if (c == 'U')
			a->userns = optarg;
		else if (c == 'T')
			a->pasta = optarg;
		else if (c == 'n')
			a->netns = optarg;
		else if (c == 'p')
			a->policy = optarg;
		else if (c == 'i')
			a->id = optarg;
		else if (c == 'a' && add_annotation(a, optarg, err) < 0)
			return -1;
		else if (c == 'd' && (parse_u32(optarg, &a->dns_port) < 0 || a->dns_port > 65535))
			return bw_fail(err, 0, "--dns-port: not a port: `%s`", optarg);
		else if (c == 'h' || c == '?')
			return 1;
	}
	if (optind >= argc)
		return bw_fail(
		    err, 0,
		    "no command (apply, list, check, plumb, unplumb, list-nat, agent, setup)");
	a->cmd = argv[optind];
	bool needs_ns = strcmp(a->cmd, "check") != 0 && strcmp(a->cmd, "unplumb") != 0 &&
			strcmp(a->cmd, "list-nat") != 0;
	if (needs_ns && a->netns == NULL)
		return bw_fail(err, 0, "%s: --netns PATH is required", a->cmd);
	if ((strstr(a->cmd, "plumb") != NULL || a->plumb) && a->id == NULL)
		return bw_fail(err, 0, "%s: --id ID is required", a->cmd);
	if (a->pasta != NULL && (a->userns == NULL || a->plumb || strcmp(a->cmd, "setup") != 0))
		return bw_fail(err, 0, "--pasta: only with --userns, without --plumb, for setup");
	if (a->pasta != NULL && a->pasta[0] != '/')
		return bw_fail(err, 0, "--pasta: an absolute path is required, got `%s`", a->pasta);
	return 0;
}

static int load_policy(const struct net_args *a, struct sandbox_policy *p, struct bw_error *err)
{
	if (a->policy != NULL) {
		if (policy_load(a->policy, p, err) < 0)
			return -1;
	} else {
		policy_init_default(p);
	}
	if (policy_apply_annotations(p, a->ann, a->n_ann, err) < 0) {
		policy_free(p);
		return -1;
	}
	return 0;
}

static int plumb(const struct net_args *a, int ns, struct bw_error *err)
{
	struct plumb_info pi;
	char h[INET_ADDRSTRLEN], sb[INET_ADDRSTRLEN];
	if (plumb_up(a->id, ns, &pi, err) < 0)
		return -1;
	inet_ntop(AF_INET, &pi.host_ip, h, sizeof(h));
	inet_ntop(AF_INET, &pi.sandbox_ip, sb, sizeof(sb));
	printf("{\"hostInterface\":\"%s\",\"gateway\":\"%s\",\"address\":\"%s/30\"}\n", pi.host_if,
	       h, sb);
	return 0;
}

static int start_agent(const struct net_args *a, const struct sandbox_policy *p, pid_t *pid,
		       struct bw_error *err)
{
	struct agent_options o = a->agent;
	if (a->id == NULL)
		return bw_fail(err, 0, "%s: --id ID is required", a->cmd);
	o.id = a->id;
	o.netns = a->netns;
	o.dns_port = (uint16_t)a->dns_port;
	o.watch_local = a->pasta != NULL;
	return agent_start(&o, p, pid, err);
}

static int print_agent(pid_t pid, struct bw_error *err)
{
	printf("agent-pid=%d\n", (int)pid);
	return fflush(stdout) == 0 ? 0 : bw_fail(err, errno, "stdout");
}

/* Everything is checked and set up before this prints; on failure nothing runs. */
static int agent(const struct net_args *a, struct bw_error *err)
{
	struct sandbox_policy p;
	pid_t pid;
	if (load_policy(a, &p, err) < 0)
		return -1;
	int r = start_agent(a, &p, &pid, err);
	policy_free(&p);
	return r < 0 ? -1 : print_agent(pid, err);
}

static void stop_agent(pid_t pid)
{
	kill_pid_wait(pid, 1000);
}

/* With pasta, UDP leaves only from the caller's ephemeral ports (pasta.h), in nft's words in
 * nft[len]; the fixed range when they cannot be had. say: which, and why, on stdout (setup's
 * output, which the runtime shows with --debug). */
static const char *udp_ports(struct port_set *set, char *nft, size_t len, bool say)
{
	const char *why = NULL;
	if (pasta_callers_ports(set, &why) < 0) {
		if (say)
			printf("udp-ports=%s (the fixed range: %s)\n", FW_PASTA_UDP_PORTS, why);
		set->n = 0;
		return NULL;
	}
	portrange_nft(set, nft, len);
	if (say)
		printf("udp-ports=%s (the caller's ephemeral ports)\n", nft);
	return nft;
}

/* One helper run for a container's whole network at create: the plumbing (direct mode), the
 * agent, then the table whose DNS redirect points at the agent. A failure undoes what this run
 * made, in reverse. */
static int setup(const struct net_args *a, int ns, struct sandbox_policy *p, struct bw_error *err)
{
	struct plumb_info pi;
	pid_t pid, pasta = 0;
	struct port_set ports = {0};
	char nft[1024];
	if (a->plumb && plumb_up(a->id, ns, &pi, err) < 0)
		return bw_wrap(err, "direct-mode plumbing");
	if (a->pasta != NULL && policy_allows_egress(p) &&
	    pasta_up(a->pasta, a->netns, a->userns, policy_allows_egress_proto(p, POL_PROTO_UDP),
		     policy_allows_egress_proto(p, POL_PROTO_ICMP), &pasta, err) < 0)
		return bw_wrap(err, "egress without root: pasta");
	if (start_agent(a, p, &pid, err) < 0)
		goto undo_plumb;
	if (pasta > 0 && pasta_watch(pasta, a->agent.pid, pid, err) < 0) {
		stop_agent(pid);
		bw_wrap(err, "egress without root: pasta");
		goto undo_plumb;
	}
	struct fw_options o = {.dns_port = a->agent.no_dns ? 0 : (uint16_t)a->dns_port,
			       .pasta = a->pasta != NULL};
	if (o.pasta)
		o.udp_ports = udp_ports(&ports, nft, sizeof(nft), true);
	if (fw_apply(ns, p, &o, err) < 0 || (o.pasta && fw_close_local(ns, err) < 0)) {
		stop_agent(pid);
		goto undo_plumb;
	}
	/* Without it the sandbox's kernel may pick ports the table drops: less UDP, never more. */
	struct bw_error pe = {0};
	if (ports.n > 0 && pasta_set_ports(ns, &ports, &pe) < 0)
		printf("udp-ports-note=%s\n", pe.msg);
	if ((pasta > 0 && printf("pasta-pid=%d\n", (int)pasta) < 0) || print_agent(pid, err) < 0) {
		stop_agent(pid);
		goto undo_plumb;
	}
	return 0;
undo_plumb:
	if (pasta > 0)
		pasta_down(pasta);
	if (a->plumb) {
		struct bw_error e2 = {0};
		plumb_down(a->id, &e2);
	}
	return -1;
}

static int run(const struct net_args *a, struct bw_error *err)
{
	struct sandbox_policy p;
	_cleanup_close_ int ns = -1;
	_cleanup_close_ int userns = -1;
	if (a->netns != NULL) {
		ns = ns_open_path(OCI_NS_NETWORK, a->netns, "--netns", err);
		if (ns < 0)
			return -1;
	}
	if (a->userns != NULL) {
		userns = ns_open_path(OCI_NS_USER, a->userns, "--userns", err);
		if (userns < 0)
			return -1;
		ns_set_owner_userns(userns);
	}
	if (strcmp(a->cmd, "list") == 0 || strcmp(a->cmd, "list-nat") == 0) {
		_cleanup_free_ char *out = NULL;
		const char *cmd = a->cmd[4] == '\0' ? "list table inet " FW_TABLE
						    : "list table ip " PLUMB_NAT_TABLE;
		if (fw_run_script(ns, cmd, &out, err) < 0)
			return -1;
		fputs(out, stdout);
		return 0;
	}
	if (strcmp(a->cmd, "plumb") == 0)
		return plumb(a, ns, err);
	if (strcmp(a->cmd, "agent") == 0)
		return agent(a, err);
	if (strcmp(a->cmd, "unplumb") == 0)
		return plumb_down(a->id, err);
	if (strcmp(a->cmd, "apply") != 0 && strcmp(a->cmd, "check") != 0 &&
	    strcmp(a->cmd, "setup") != 0)
		return bw_fail(err, 0, "unknown command `%s`", a->cmd);
	if (load_policy(a, &p, err) < 0)
		return -1;
	int r = 0;
	if (strcmp(a->cmd, "setup") == 0) {
		r = setup(a, ns, &p, err);
	} else if (strcmp(a->cmd, "apply") == 0) {
		/* A pasta sandbox keeps its local sets: its caller's addresses stay closed. */
		int pasta = fw_pasta_table(ns, err);
		struct port_set ports;
		char nft[1024];
		struct fw_options o = {.dns_port = (uint16_t)a->dns_port, .pasta = pasta == 1};
		if (o.pasta)
			o.udp_ports = udp_ports(&ports, nft, sizeof(nft), false);
		r = pasta < 0 ? -1 : fw_apply(ns, &p, &o, err);
		if (r == 0 && o.pasta)
			r = fw_close_local(ns, err);
	} else {
		printf("egress: %s\n", policy_allows_egress(&p) ? "yes" : "loopback only");
	}
	policy_free(&p);
	return r;
}

/* What other users see of us in /proc/PID/cmdline: our name and the sandbox's, never the host
 * paths (state root, policy, events file) the runtime passed. The agent and the pasta watcher
 * are forks of this process and live as long as the sandbox. args points into the argv area
 * proctitle_hide zeroes: the options are parsed from this private copy. */
static char **private_argv(int argc, char **argv)
{
	char **copy = xcalloc((size_t)argc + 1, sizeof(*copy));
	for (int i = 0; i < argc; i++)
		copy[i] = xstrdup(argv[i]);
	return copy;
}

static void hide_args(const struct net_args *a)
{
	const char *name = a->id != NULL ? a->id : a->cmd != NULL ? a->cmd : "";
	char title[128];
	int n = snprintf(title, sizeof(title), "bulwark-net%c%s", '\0', name);
	size_t len = n < 0 ? 0 : (size_t)n + 1 < sizeof(title) ? (size_t)n + 1 : sizeof(title);
	/* Best effort: a process whose areas cannot be found keeps showing its argv. */
	(void)proctitle_hide(title, len);
}

int main(int argc, char **argv)
{
	struct net_args a = {0};
	struct bw_error err = {0};
	char **args = private_argv(argc, argv);
	int r = parse_args(argc, args, &a, &err);
	if (r == 0)
		hide_args(&a);
	if (r == 1) {
		usage(stdout);
		return 0;
	}
	if (r == 0)
		r = run(&a, &err);
	for (size_t i = 0; i < a.n_ann; i++) {
		free(a.ann[i].key);
		free(a.ann[i].value);
	}
	free(a.ann);
	strv_free(args);
	if (r < 0) {
		char raw[BW_ERROR_MAX + 64], text[4 * sizeof(raw)];
		bw_error_text(&err, raw, sizeof(raw));
		fprintf(stderr, "bulwark-net: %s\n", log_escape(text, sizeof(text), raw));
		return 1;
	}
	return 0;
}
