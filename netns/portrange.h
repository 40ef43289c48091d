/* The UDP source ports a rootless sandbox may use (pasta binds each one in the caller's
 * namespace): the caller's ephemeral range (net.ipv4.ip_local_port_range) minus its reserved
 * ports (ip_local_reserved_ports). Parsing and rendering are pure; the files are hostile
 * input (any bytes, any length) and anything unexpected is refused with the reason. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* More spans than this (a reserved list that shreds the range) is refused: the table's set
 * stays small. */
#define PORTRANGE_MAX_SPANS 64

struct port_span {
	uint16_t lo, hi;
};

struct port_set {
	struct port_span v[PORTRANGE_MAX_SPANS];
	size_t n;
};

/* range: the text of ip_local_port_range ("32768\t60999\n"); reserved: that of
 * ip_local_reserved_ports ("", "8080,9000-9010\n"). 0 with *out filled (ascending, disjoint,
 * at least one port), or -1 with *why set to a static reason. */
int portrange_parse(const char *range, const char *reserved, struct port_set *out,
		    const char **why);
/* The set as nftables writes a port expression: "40000-50000", or "{ 40000-44999, 45001-50000 }"
 * (a single port as "N"). */
void portrange_nft(const struct port_set *s, char *buf, size_t len);
/* The low and high ends and the holes as the kernel's ip_local_reserved_ports reads them
 * ("44999-45000,..."; "" when none), for the sandbox's own namespace. */
void portrange_sysctls(const struct port_set *s, char *range, size_t range_len, char *holes,
		       size_t holes_len);
