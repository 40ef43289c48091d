/* What the files of `bulwark sandbox` share among themselves (sandbox.h is what the rest of the
 * runtime uses). */
#pragma once

#include "runtime/sandbox/sandbox.h"

/* sandbox_reach.c */
int sandbox_refuse_writable_reaching_runtime(const struct global_opts *g, const struct specgen *sg,
					     const struct hostpath_list *known,
					     const struct workspace_set *ws, struct bw_error *err);

/* sandbox_spec.c */
int sandbox_add_workspaces(const struct global_opts *g, const struct sandbox_flags *f,
			   struct specgen *sg, struct workspace_set *ws, struct bw_error *err);
int sandbox_build_env(const struct sandbox_flags *f, const struct specgen *sg, char ***env,
		      struct bw_error *err);
int sandbox_build_spec(struct sandbox_flags *f, char **args, struct specgen *sg,
		       struct root_plan *rp, struct hostpath_list *known, struct sandbox_budget *b,
		       struct bw_error *err);
int sandbox_forbid_setid_if_rw(const struct workspace_set *ws, size_t first, size_t n,
			       bool complain, struct specgen *sg, struct bw_error *err);
int sandbox_prepare_workspaces(const struct specgen *sg, const struct sandbox_budget *b,
			       struct workspace_set *ws, struct bw_error *err);
int sandbox_read_flag_file(const char *flag, const char *file, size_t max, char **text, size_t *len,
			   struct bw_error *err);
void sandbox_free_spec(struct specgen *sg);

/* sandbox_plan.c */
int sandbox_new_id(struct sandbox_run *run, struct bw_error *err);

/* sandbox_launch.c */
int sandbox_run(const struct global_opts *g, struct specgen *sg, struct sandbox_run *run,
		struct bw_error *err);
