/* bulwark-net: the network pieces of bulwark as a standalone tool, for engines' hooks (a
 * network namespace given by path) and for the tests: apply a sandbox policy's firewall, list
 * the table. Links libnftables only through firewall.c's dlopen, like the runtime. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "netns/firewall.h"
#include "netns/ns.h"
#include "netns/plumb.h"
#include "oci/policy.h"

struct net_args {
	const char *cmd;
	const char *netns;
	const char *policy;
	const char *id;
	struct oci_kv *ann;
	size_t n_ann;
	uint32_t dns_port;
};

static void usage(FILE *f)
{
	fputs("usage: bulwark-net apply --netns PATH [--policy FILE] [--annotation KEY=VALUE]...\n"
	      "                         [--dns-port N]\n"
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

static int parse_args(int argc, char **argv, struct net_args *a, struct bw_error *err)
{
	static const struct option opts[] = {{"netns", required_argument, NULL, 'n'},
					     {"policy", required_argument, NULL, 'p'},
					     {"annotation", required_argument, NULL, 'a'},
					     {"dns-port", required_argument, NULL, 'd'},
					     {"id", required_argument, NULL, 'i'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "+n:p:a:d:i:h", opts, NULL)) != -1) {
		if (c == 'n')
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
		return bw_fail(err, 0, "no command (apply, list, check)");
	a->cmd = argv[optind];
	bool needs_ns = strcmp(a->cmd, "check") != 0 && strcmp(a->cmd, "unplumb") != 0 &&
			strcmp(a->cmd, "list-nat") != 0;
	if (needs_ns && a->netns == NULL)
		return bw_fail(err, 0, "%s: --netns PATH is required", a->cmd);
	if (strstr(a->cmd, "plumb") != NULL && a->id == NULL)
		return bw_fail(err, 0, "%s: --id ID is required", a->cmd);
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

static int run(const struct net_args *a, struct bw_error *err)
{
	struct sandbox_policy p;
	_cleanup_close_ int ns = -1;
	if (a->netns != NULL) {
		ns = ns_open_path(OCI_NS_NETWORK, a->netns, "--netns", err);
		if (ns < 0)
			return -1;
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
	if (strcmp(a->cmd, "unplumb") == 0)
		return plumb_down(a->id, err);
	if (strcmp(a->cmd, "apply") != 0 && strcmp(a->cmd, "check") != 0)
		return bw_fail(err, 0, "unknown command `%s`", a->cmd);
	if (load_policy(a, &p, err) < 0)
		return -1;
	int r = 0;
	if (strcmp(a->cmd, "apply") == 0) {
		struct fw_options o = {.dns_port = (uint16_t)a->dns_port};
		r = fw_apply(ns, &p, &o, err);
	} else {
		printf("egress: %s\n", policy_allows_egress(&p) ? "yes" : "loopback only");
	}
	policy_free(&p);
	return r;
}

int main(int argc, char **argv)
{
	struct net_args a = {0};
	struct bw_error err = {0};
	int r = parse_args(argc, argv, &a, &err);
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
	if (r < 0) {
		char text[BW_ERROR_MAX + 64];
		bw_error_text(&err, text, sizeof(text));
		fprintf(stderr, "bulwark-net: %s\n", text);
		return 1;
	}
	return 0;
}
