/* Releasing a struct oci_spec and its parts. Every free function accepts what a failed parse
 * leaves behind (zeroed tails, NULL members) and zeroes what it freed. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/spec_internal.h"

void oci_kv_free(struct oci_kv *kv, size_t n)
{
	for (size_t i = 0; kv != NULL && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void oci_process_free_fields(struct oci_process *p)
{
	free(p->user.additional_gids);
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	for (int s = 0; s < OCI_CAP_NSETS; s++)
		strv_free(p->caps.sets[s]);
	for (size_t i = 0; p->rlimits != NULL && i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->io_priority.klass);
	free(p->scheduler.policy);
	strv_free(p->scheduler.flags);
	free(p->exec_cpu_affinity.initial);
	free(p->exec_cpu_affinity.final);
	memset(p, 0, sizeof(*p));
}

static void block_io_free(struct oci_block_io *b)
{
	free(b->weight_devices);
	for (int k = 0; k < OCI_THROTTLE_NKINDS; k++)
		free(b->throttle[k]);
}

void oci_resources_free_fields(struct oci_resources *r)
{
	for (size_t i = 0; r->devices != NULL && i < r->n_devices; i++)
		free(r->devices[i].access);
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	block_io_free(&r->block_io);
	for (size_t i = 0; r->hugepage_limits != NULL && i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; r->net_priorities != NULL && i < r->n_net_priorities; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
	for (size_t i = 0; r->rdma != NULL && i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	oci_kv_free(r->unified, r->n_unified);
	memset(r, 0, sizeof(*r));
}

void oci_seccomp_free(struct oci_seccomp *sc)
{
	if (sc == NULL)
		return;
	free(sc->default_action);
	strv_free(sc->architectures);
	strv_free(sc->flags);
	free(sc->listener_path);
	free(sc->listener_metadata);
	for (size_t i = 0; sc->syscalls != NULL && i < sc->n_syscalls; i++) {
		struct oci_seccomp_syscall *s = &sc->syscalls[i];
		strv_free(s->names);
		free(s->action);
		for (size_t j = 0; s->args != NULL && j < s->n_args; j++)
			free(s->args[j].op);
		free(s->args);
	}
	free(sc->syscalls);
	free(sc);
}

void oci_linux_free_fields(struct oci_linux *l)
{
	for (size_t i = 0; l->namespaces != NULL && i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; l->devices != NULL && i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	oci_resources_free_fields(&l->resources);
	oci_kv_free(l->sysctl, l->n_sysctl);
	oci_seccomp_free(l->seccomp);
	free(l->rootfs_propagation);
	strv_free(l->masked_paths);
	strv_free(l->readonly_paths);
	free(l->mount_label);
	free(l->personality.domain);
	strv_free(l->personality.flags);
	free(l->intel_rdt.clos_id);
	free(l->intel_rdt.l3_cache_schema);
	free(l->intel_rdt.mem_bw_schema);
	free(l->memory_policy.mode);
	free(l->memory_policy.nodes);
	strv_free(l->memory_policy.flags);
	for (size_t i = 0; l->net_devices != NULL && i < l->n_net_devices; i++) {
		free(l->net_devices[i].host_name);
		free(l->net_devices[i].name);
	}
	free(l->net_devices);
	memset(l, 0, sizeof(*l));
}

static void mount_free(struct oci_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	strv_free(m->options);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

static void hook_free(struct oci_hook *h)
{
	free(h->path);
	strv_free(h->args);
	strv_free(h->env);
}

void oci_spec_free(struct oci_spec *spec)
{
	if (spec == NULL)
		return;
	free(spec->oci_version);
	oci_process_free_fields(&spec->process);
	free(spec->root_path);
	free(spec->hostname);
	free(spec->domainname);
	for (size_t i = 0; spec->mounts != NULL && i < spec->n_mounts; i++)
		mount_free(&spec->mounts[i]);
	free(spec->mounts);
	for (int k = 0; k < OCI_HOOK_NKINDS; k++) {
		for (size_t i = 0; spec->hooks.list[k] != NULL && i < spec->hooks.n[k]; i++)
			hook_free(&spec->hooks.list[k][i]);
		free(spec->hooks.list[k]);
	}
	oci_kv_free(spec->annotations, spec->n_annotations);
	oci_linux_free_fields(&spec->linux);
	free(spec);
}
