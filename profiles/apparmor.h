/* AppArmor: in the runtime parent, check a named profile (process.apparmorProfile) or render,
 * load (apparmor_parser, cached by content hash) and reference-count bulwark's default profile
 * (annotation run.bulwark.apparmor=default); in the init, ask for the profile at execve. */
#pragma once

#include <stdbool.h>

#include "common/error.h"
#include "oci/spec.h"

#define APPARMOR_ANNOTATION "run.bulwark.apparmor"
#define APPARMOR_NAME_PREFIX "bulwark-"

struct apparmor_plan {
	char *profile; /* applied at execve; NULL: leave the confinement as it is */
};

/* /sys/module/apparmor/parameters/enabled reads "Y". */
bool apparmor_enabled(void);
/* Whether `name` is loaded, from a /sys/kernel/security/apparmor/profiles text (pure). */
bool apparmor_profiles_text_has(const char *profiles_text, const char *name);

/* The default profile for this spec, named `name` (pure). Mount destinations that cannot be
 * written safely into a profile (quotes, glob characters, control or non-ASCII bytes) are an
 * error naming the mount: "mounts[2].destination: ... cannot be expressed in an AppArmor
 * profile". */
int apparmor_render(const struct oci_spec *spec, const char *name, char **out,
		    struct bw_error *err);
/* The name and text of the default profile for this spec: bulwark-<12 hex digits of the
 * SHA-256 of the text rendered with a fixed name>, and the text rendered with that name. */
int apparmor_render_named(const struct oci_spec *spec, char **name, char **text,
			  struct bw_error *err);

/* Parse `text` with apparmor_parser -Q -K (nothing is loaded): for tests and for checking a
 * template without AppArmor in the kernel. The parser's first line of output is in the error. */
int apparmor_parser_check(const char *text, struct bw_error *err);

/* In the parent, before the container's process starts.
 * - process.apparmorProfile set: on a host without AppArmor, error "process.apparmorProfile:
 *   AppArmor is not enabled on this host"; a profile that is not loaded, error
 *   "process.apparmorProfile: profile \"X\" is not loaded"; else the plan names it.
 *   "unconfined" is accepted everywhere and changes nothing.
 * - else run.bulwark.apparmor = "default": with AppArmor, render, load unless a profile of that
 *   name is loaded already, record that container `id` uses it (<state_root>/.cache/apparmor/
 *   <name>/<id>), and name it in the plan; without AppArmor, nothing (Landlock confines the file
 *   system there). "off" or absent: nothing. Anything else: an error naming the annotation.
 * On failure nothing is recorded for `id`. */
int apparmor_prepare(const struct oci_spec *spec, const char *state_root, const char *id,
		     struct apparmor_plan *out, struct bw_error *err);
void apparmor_plan_free(struct apparmor_plan *plan);

/* In the init: write "exec <profile>" to /proc/self/attr/apparmor/exec (or attr/exec on older
 * kernels) after checking that the file is on procfs (a bind mount over /proc cannot swallow
 * it). The profile takes effect at the next execve. No profile: nothing. */
int apparmor_apply_exec(const struct apparmor_plan *plan, struct bw_error *err);

/* When container `id` is deleted: drop its references; a bulwark-* profile that no container
 * references any more is unloaded. Safe to call for containers that never had one. */
int apparmor_release(const char *state_root, const char *id, struct bw_error *err);
