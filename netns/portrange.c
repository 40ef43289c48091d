/* The caller's ephemeral UDP ports for a rootless sandbox's table (portrange.h). */
#include "netns/portrange.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* A port 1-65535 at *p, in decimal without sign or leading junk; *p moves past it. */
static int port_at(const char **p, uint16_t *out)
{
	unsigned v = 0;
	size_t n = 0;
	while ((*p)[n] >= '0' && (*p)[n] <= '9') {
		if (n == 5)
			return -1;
		v = v * 10 + (unsigned)((*p)[n] - '0');
		n++;
	}
	if (n == 0 || v == 0 || v > 65535)
		return -1;
	*p += n;
	*out = (uint16_t)v;
	return 0;
}

static int refuse(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

static const char *skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

static void clear_span(uint8_t *bits, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi; i++)
		bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static bool bit(const uint8_t *bits, unsigned i)
{
	return bits[i / 8] & (1u << (i % 8));
}

/* Reserved: "" or "N[-M](,N[-M])*" with optional trailing white space. */
static int take_reserved(const char *p, uint8_t *bits, const char **why)
{
	p = skip_space(p);
	while (*p != '\0') {
		uint16_t lo, hi;
		if (port_at(&p, &lo) < 0)
			return refuse(why, "ip_local_reserved_ports: not a list of ports");
		hi = lo;
		if (*p == '-') {
			p++;
			if (port_at(&p, &hi) < 0 || hi < lo)
				return refuse(why, "ip_local_reserved_ports: a bad range");
		}
		clear_span(bits, lo, hi);
		if (*p == ',')
			p++;
		else if (*skip_space(p) == '\0')
			break;
		else
			return refuse(why, "ip_local_reserved_ports: not a list of ports");
	}
	return 0;
}

int portrange_parse(const char *range, const char *reserved, struct port_set *out, const char **why)
{
	uint8_t bits[65536 / 8];
	uint16_t lo, hi;
	const char *p = skip_space(range);
	memset(out, 0, sizeof(*out));
	if (port_at(&p, &lo) < 0 || !is_space(*p))
		return refuse(why, "ip_local_port_range: expected two ports");
	p = skip_space(p);
	if (port_at(&p, &hi) < 0 || *skip_space(p) != '\0')
		return refuse(why, "ip_local_port_range: expected two ports");
	if (hi < lo)
		return refuse(why, "ip_local_port_range: the first port is above the second");
	memset(bits, 0, sizeof(bits));
	for (unsigned i = lo; i <= hi; i++)
		bits[i / 8] |= (uint8_t)(1u << (i % 8));
	if (take_reserved(reserved, bits, why) < 0)
		return -1;
	for (unsigned i = lo; i <= hi; i++) {
		if (!bit(bits, i))
			continue;
		if (out->n == PORTRANGE_MAX_SPANS)
			return refuse(
			    why, "ip_local_reserved_ports splits the range into too many parts");
		unsigned end = i;
		while (end < hi && bit(bits, end + 1))
			end++;
		out->v[out->n++] = (struct port_span){(uint16_t)i, (uint16_t)end};
		i = end;
	}
	if (out->n == 0)
		return refuse(why, "every port of ip_local_port_range is reserved");
	return 0;
}

static void put_span(char *buf, size_t len, size_t *used, const struct port_span *s,
		     const char *sep)
{
	int n = s->lo == s->hi ? snprintf(buf + *used, len - *used, "%s%u", sep, s->lo)
			       : snprintf(buf + *used, len - *used, "%s%u-%u", sep, s->lo, s->hi);
	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

void portrange_nft(const struct port_set *s, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	if (s->n == 1) {
		put_span(buf, len, &used, &s->v[0], "");
		return;
	}
	used = (size_t)snprintf(buf, len, "{ ");
	for (size_t i = 0; i < s->n && used < len - 1; i++)
		put_span(buf, len, &used, &s->v[i], i ? ", " : "");
	if (used < len - 1)
		snprintf(buf + used, len - used, " }");
}

void portrange_sysctls(const struct port_set *s, char *range, size_t range_len, char *holes,
		       size_t holes_len)
{
	size_t used = 0;
	holes[0] = '\0';
	snprintf(range, range_len, "%u %u", s->v[0].lo, s->v[s->n - 1].hi);
	for (size_t i = 1; i < s->n && used < holes_len - 1; i++) {
		struct port_span h = {(uint16_t)(s->v[i - 1].hi + 1), (uint16_t)(s->v[i].lo - 1)};
		put_span(holes, holes_len, &used, &h, i > 1 ? "," : "");
	}
}
